"""Use cases of the calendar plugin, one module per concern.

* :mod:`.calendar_days` — closed days (weekdays, public and school holidays, closures);
* :mod:`.deadlines` — reservation and cancellation deadlines, Paris time;
* :mod:`.reasons` — the absence reasons offered;
* :mod:`.context` — what a rule needs to know about a child and a range of days (loaded in a
  constant number of queries);
* :mod:`.booking` — reserve, cancel, weekly pattern;
* :mod:`.absences` — declare and withdraw absences;
* :mod:`.agenda` — the month grid of the parent page;
* :mod:`.agents` — the agents' queue, headcounts and absences of the day;
* :mod:`.feeds` — private iCalendar subscriptions.
"""
