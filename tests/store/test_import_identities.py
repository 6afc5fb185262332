"""Identity resolution as an import performs it: phone and e-mail normalisation, links between
identifiers on one record, merges across imports with stable keys, withheld and non-phone caller
ids, and the deny-list of shared lines."""

from __future__ import annotations

from recontact.config import Settings


def customers(query) -> dict[int, list[str]]:
    """customer key -> its identifiers (those that identify someone)."""
    out: dict[int, list[str]] = {}
    for ident, key in query("SELECT ident, customer_key FROM identifiers WHERE customer_key IS NOT NULL "
                            "ORDER BY customer_key, ident"):
        out.setdefault(key, []).append(ident)
    return out


def key_of(query, contact_id: str) -> int | None:
    return query("SELECT customer_key FROM contacts WHERE contact_id = ?", [contact_id])[0][0]


def test_one_phone_in_several_formats_is_one_customer(samples, run_import, query):
    run_import(samples / "csv" / "phones.csv")
    assert query("SELECT contact_id, phone_raw, phone FROM contacts ORDER BY line") == [
        ("p1", "(415) 555-0134", "+14155550134"),
        ("p2", "415.555.0134", "+14155550134"),
        ("p3", "+1 415 555 0134", "+14155550134"),
        ("p4", "14155550134", "+14155550134"),
        ("p5", "+44 20 7946 0958", "+442079460958"),  # not North American: the phonenumbers path
    ]
    assert len({key_of(query, c) for c in ("p1", "p2", "p3", "p4")}) == 1
    assert sorted(customers(query).values()) == [["phone:+14155550134"], ["phone:+442079460958"]]


def test_email_case_and_space_variants_are_one_customer(samples, run_import, query):
    run_import(samples / "csv" / "emails.csv")
    assert {e for (e,) in query("SELECT email FROM contacts")} == {"ann.lee@example.com", "bob@example.com"}
    assert key_of(query, "e1") == key_of(query, "e2") == key_of(query, "e3") != key_of(query, "e4")
    assert sorted(customers(query).values()) == [["email:ann.lee@example.com"], ["email:bob@example.com"]]


def test_phone_and_email_on_one_row_are_linked(samples, run_import, query):
    run_import(samples / "csv" / "link_first.csv")
    bob = key_of(query, "l4")
    assert customers(query)[bob] == ["email:bob@example.com", "phone:+16505550199"]
    # Identifiers never seen together stay apart.
    assert len({key_of(query, c) for c in ("l1", "l2", "l3", "l4")}) == 4


def test_a_later_import_merges_two_customers_into_the_smaller_key(samples, run_import, query):
    run_import(samples / "csv" / "link_first.csv")
    ann_phone, ann_email, account, bob = (key_of(query, c) for c in ("l1", "l2", "l3", "l4"))
    smaller, larger = sorted((ann_phone, ann_email))
    run_import(samples / "csv" / "link_second.csv")  # (415) 555-0134 with Ann@Example.com
    # The smaller key survives; every contact of the other customer moves to it.
    assert {key_of(query, c) for c in ("l1", "l2", "l5")} == {smaller}
    assert customers(query)[smaller] == ["email:ann@example.com", "phone:+14155550134"]
    assert larger not in customers(query)
    assert query("SELECT count(*) FROM contacts WHERE customer_key = ?", [larger]) == [(0,)]
    # Keys the merge did not touch are stable.
    assert (key_of(query, "l3"), key_of(query, "l4")) == (account, bob)


def test_a_retired_key_is_never_handed_out_again(samples, run_import, query):
    """One customer per import, so the keys are 1 (e-mail) and 2 (phone). Linking them retires 2,
    the highest key handed out; the next new customer must get 3, or a key a user has seen would
    silently point at somebody else."""
    run_import(samples / "csv" / "key_email_first.csv")
    run_import(samples / "csv" / "key_phone_second.csv")
    assert (key_of(query, "k1"), key_of(query, "k2")) == (1, 2)
    run_import(samples / "csv" / "link_second.csv")  # (415) 555-0134 with Ann@Example.com
    assert {key_of(query, c) for c in ("k1", "k2", "l5")} == {1}
    run_import(samples / "csv" / "link_third.csv")
    assert key_of(query, "l6") == 3
    assert customers(query) == {1: ["email:ann@example.com", "phone:+14155550134"], 3: ["phone:+12125550123"]}


def test_withheld_caller_ids_never_become_customers(samples, run_import, query):
    s = run_import(samples / "csv" / "withheld.csv")
    withheld = ["w01", "w02", "w03", "w04", "w05", "w06", "w07"]  # anonymous … 000-000-0000
    assert query("SELECT contact_id FROM contacts WHERE withheld ORDER BY line") == [(c,) for c in withheld]
    assert query("SELECT count(*) FROM contacts WHERE withheld AND customer_key IS NOT NULL") == [(0,)]
    # w08 is an e-mail contact without identifiers: unidentified, but not a withheld caller id.
    assert query("SELECT withheld, customer_key FROM contacts WHERE contact_id = 'w08'") == [(False, None)]
    assert (s.withheld, s.unidentified, s.imported) == (7, 8, 12)
    assert s.no_identifier == 1  # w08: the one unidentified contact that is not a withheld call
    idents = {i for (i,) in query("SELECT ident FROM identifiers")}
    assert idents == {"extension:client1", "extension:1234", "phone:+14155550134"}
    assert not any(w in i for i in idents for w in ("anonymous", "restricted", "private", "unknown", "0000"))


def test_non_phone_caller_ids_are_extensions(samples, run_import, query):
    run_import(samples / "csv" / "withheld.csv")
    assert query("SELECT contact_id, phone, extension FROM contacts WHERE extension IS NOT NULL ORDER BY line") == [
        ("w09", None, "client1"), ("w10", None, "1234"), ("w11", None, "client1"),  # CLIENT1 case-folded
    ]
    assert key_of(query, "w09") == key_of(query, "w11") != key_of(query, "w10")


def test_deny_listed_number_is_kept_out_of_identity(samples, run_import, query):
    settings = Settings(deny_list=("+14155550100",))
    s = run_import(samples / "csv" / "deny.csv", settings=settings)
    # s1, s2 and s4 call from the shared line (three spellings); s2 also gives an e-mail.
    assert (s.shared, s.unidentified, s.withheld) == (3, 2, 0)
    assert query("SELECT contact_id FROM contacts WHERE shared ORDER BY line") == [("s1",), ("s2",), ("s4",)]
    idents = {i for (i,) in query("SELECT ident FROM identifiers WHERE customer_key IS NOT NULL")}
    assert idents == {"email:carol@example.com", "phone:+14155550134"}
    assert query("SELECT ident, role, contacts FROM identifiers WHERE role IS NOT NULL") == [
        ("phone:+14155550100", "denied", 3)]
    assert (key_of(query, "s1"), key_of(query, "s4")) == (None, None)
    assert customers(query)[key_of(query, "s2")] == ["email:carol@example.com"]
    # The number itself is still recorded on the contact.
    assert query("SELECT DISTINCT phone FROM contacts WHERE shared") == [("+14155550100",)]


def test_without_the_deny_list_the_shared_line_is_a_customer(samples, run_import, query):
    s = run_import(samples / "csv" / "deny.csv")
    assert (s.shared, s.unidentified) == (0, 0)
    assert key_of(query, "s1") == key_of(query, "s2") == key_of(query, "s4")
    assert customers(query)[key_of(query, "s1")] == ["email:carol@example.com", "phone:+14155550100"]


def test_identities_link_across_formats(samples, run_import, query):
    """A phone seen in a CSV and again in a JSON lines file and an Asterisk CDR is one customer."""
    run_import(samples / "csv" / "phones.csv")
    run_import(samples / "jsonl" / "mapped.jsonl",
               column_map={"id": "contact_id", "When": "started_at", "Caller ID": "phone"})
    run_import(samples / "asterisk" / "cdr_custom.csv")
    (key,) = query("SELECT customer_key FROM identifiers WHERE ident = 'phone:+14155550134'")[0]
    # phones.csv p1-p4, mapped.jsonl x1-x2, cdr_custom.csv four imported calls from 4155550134 (lines 1, 2, 5, 7).
    assert query("SELECT source, count(*) FROM contacts WHERE customer_key = ? GROUP BY 1 ORDER BY 1", [key]) == [
        ("asterisk", 4), ("csv", 4), ("jsonl", 2),
    ]


def test_placeholder_identifiers_never_join_people(tmp_path, run_import, query):
    """``?``, ``N/A``, ``unknown`` in an account or e-mail column mean "no value": two strangers
    with ``?`` as account must not become one customer."""
    f = tmp_path / "placeholders.csv"
    f.write_text("contact_id,started_at,phone,account_id,email\n"
                 "p1,2026-01-05T09:00:00Z,(415) 555-0134,?,N/A\n"
                 "p2,2026-01-05T10:00:00Z,(212) 555-0123,?,unknown\n"
                 "p3,2026-01-05T11:00:00Z,,?,\n")
    s = run_import(f)
    assert (s.imported, s.unidentified) == (3, 1)
    assert customers(query) == {1: ["phone:+14155550134"], 2: ["phone:+12125550123"]}
    assert key_of(query, "p3") is None
