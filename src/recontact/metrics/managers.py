"""Manager report for internal desks: each employee's help-desk contacts, and a robust score of how
far above their peers (the same manager's other direct reports) an employee is.

**Robust score** (a modified z-score, Iglewicz & Hoaglin): for an employee with x contacts among
peers whose contact counts have median m and median absolute deviation MAD,
score = (x - m) / (1.4826 · MAD). When MAD is 0 (most peers alike), the mean absolute deviation
* 1.2533 stands in for 1.4826 · MAD; when that is 0 too (all alike), every score is 0. An employee
is **far above their peers** when the score exceeds the configured threshold (default 3.5).
"""

from __future__ import annotations

from typing import Any

import ibis

MAD_SCALE = 1.4826  # MAD of a normal sample * this estimates its standard deviation
MEAN_AD_SCALE = 1.2533  # the same for the mean absolute deviation (sqrt(pi / 2))
METHOD = ("modified z-score of contacts among the manager's direct reports: (x - median) / (1.4826 * MAD); "
          "MAD 0: (x - median) / (1.2533 * mean absolute deviation); all alike: 0")


def employee_contacts(employees: Any, row_keys: Any, contacts: Any) -> Any:
    """Per employee of the directory: ``contacts``, ``handle_s``, ``resolved`` / ``unresolved`` /
    ``resolution_unknown`` counts (0 for an employee without contacts). ``contacts``: the countable
    inbound ones (already cut to the period)."""
    from recontact.metrics.contacts import handle_seconds

    keyed = employees.left_join(row_keys, "line").drop("line_right")
    per = contacts.mutate(_handle=handle_seconds(contacts)).group_by("customer_key").aggregate(
        contacts=ibis._.count(), handle_s=ibis._._handle.sum(),
        resolved=ibis._.count(where=ibis._.resolved), unresolved=ibis._.count(where=~ibis._.resolved),
        resolution_unknown=ibis._.count(where=ibis._.resolved.isnull()),
    )
    joined = keyed.left_join(per, "customer_key").drop("customer_key_right")
    return joined.mutate(**{c: joined[c].fill_null(0) for c in ("contacts", "handle_s", "resolved", "unresolved",
                                                               "resolution_unknown")})


def employee_categories(employees: Any, row_keys: Any, contacts: Any) -> Any:
    """(employee_id, category, contacts): each employee's contacts per category (null: none given)."""
    keyed = employees.join(row_keys, "line").select(_employee=employees.employee_id, _key=row_keys.customer_key)
    joined = contacts.join(keyed, contacts.customer_key == keyed._key)  # contacts have an employee_id column too
    return joined.group_by(employee_id=joined._employee, category=joined.category).aggregate(contacts=joined.count())


def robust_scores(per_employee: Any, group: str = "manager", value: str = "contacts") -> Any:
    """``per_employee`` with ``score``: the modified z-score of ``value`` within ``group`` (see the
    module docstring). Rows whose ``group`` is null get a null score."""
    grouped = per_employee.filter(per_employee[group].notnull())
    med = grouped.group_by(group).aggregate(_median=grouped[value].median())
    dev = grouped.join(med, group)
    dev = dev.mutate(_dev=(dev[value] - dev._median).abs())
    spread = dev.group_by(group).aggregate(_mad=dev._dev.median(), _mean_ad=dev._dev.mean())
    scored = dev.join(spread, group)
    score = ibis.cases(
        (scored._mad > 0, (scored[value] - scored._median) / (MAD_SCALE * scored._mad)),
        (scored._mean_ad > 0, (scored[value] - scored._median) / (MEAN_AD_SCALE * scored._mean_ad)),
        else_=0.0,
    )
    return scored.mutate(score=score.cast("float64")).drop("_median", "_dev", "_mad", "_mean_ad")
