"""The bundled plugins of Portail Famille, installed as the import package ``famille_plugins``
(the folder is ``plugins/``; the distinct name avoids clashing with other ``plugins`` packages)."""
