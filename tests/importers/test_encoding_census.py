"""The UTF-8 census that decides a file's encoding, against a character-by-character count."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from recontact.importers.text import _last_complete, detect_encoding, utf8_census


def census_by_hand(head: bytes) -> tuple[int, int]:
    """(characters above U+007F that are not replacements, invalid sequences), one character at a
    time, a multi-byte character cut by the sample's end left out."""
    text = head.decode("utf-8", errors="replace")
    if text.endswith("\ufffd") and len(head) >= 4 and not head[-4:].isascii():
        text = head[: len(head) - 4 + _last_complete(head[-4:])].decode("utf-8", errors="replace")
    replaced = sum(1 for c in text if c == "\ufffd")
    above = sum(1 for c in text if ord(c) > 0x7F)
    return above - replaced, replaced - head.count("\ufffd".encode())


#: Bytes mixing ASCII, well-formed multi-byte characters (some cut) and stray high bytes.
pieces = st.one_of(st.binary(max_size=8), st.text(max_size=6).map(lambda t: t.encode("utf-8")),
                   st.sampled_from([b"\xe9", b"\xc3", b"\xef\xbf\xbd", "€".encode()[:2], "😀".encode()[:3]]))


@given(st.lists(pieces, max_size=12).map(b"".join))
def test_census_counts_every_character(head: bytes) -> None:
    assert utf8_census(head) == census_by_hand(head)


def test_ascii_and_latin1_and_utf8_heads() -> None:
    assert utf8_census(b"id,name\n1,Ann\n") == (0, 0)
    assert utf8_census("id,name\n1,Zoë Café\n".encode()) == (2, 0)
    assert utf8_census("id,name\n1,Zoë\n".encode("latin-1")) == (0, 1)
    assert detect_encoding("1,Zoë\n".encode("latin-1")) == "latin-1"
    assert detect_encoding("1,Zoë\n".encode()) == "utf-8"
