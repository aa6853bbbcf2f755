"""The plain header reader (no pydicom) against pydicom: the same records, or a hand-over.

Every corpus file (pydicom's and pydicom-data's test files), series read by one reader (whose
files are checked against the walk of the file before), and damaged copies of real files read
between undamaged ones (so that the damage meets a kept walk) must give the record and the
reason to skip that pydicom's own path gives.
"""

from __future__ import annotations

import random
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.filereader import ENCODED_VR
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

from dcmview.core import discovery, plain_header
from dcmview.core.header_values import header_value
from dcmview.core.plain_header import KEYWORDS, HandOver, PlainReader

from . import dicomgen as gen
from .test_header_reader import _mutation_sources, _record_facts, corpus, pydicom_only

MUTANTS = 600


class CountingReader(PlainReader):
    """A plain reader that counts the files it read whole (without handing them over to
    pydicom) and those whose walk it kept."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0
        self.handed_over = 0
        self.kept_walks = 0
        self.kept_records = 0  # headers the reader gave a series' template with

    @property
    def read_plainly(self) -> int:
        return self.attempts - self.handed_over

    def read(self, path: str) -> plain_header.PlainHeader | str:
        self.attempts += 1
        before = [skeleton.walk for skeleton in self._skeletons]
        header = super().read(path)
        if isinstance(header, plain_header.PlainHeader):
            self.kept_walks += any(header.walk is walk for walk in before)
            self.kept_records += header.kept is not None
        return header


@pytest.fixture(autouse=True)
def _count_hand_overs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Readers count the files discovery took from them to pydicom."""
    read_plain = discovery._read_plain

    def counted(path: str, reader: PlainReader, *args: Any) -> Any:
        try:
            return read_plain(path, reader, *args)
        except HandOver:
            if isinstance(reader, CountingReader):
                reader.handed_over += 1
            raise

    monkeypatch.setattr(discovery, "_read_plain", counted)


def outcome_with_pydicom(path: Path) -> tuple:
    with pydicom_only():
        return _record_facts(discovery.read_record(str(path)))


def test_the_keyword_table_is_the_dicom_dictionary() -> None:
    for keyword, (tag, vr) in KEYWORDS.items():
        assert tag_for_keyword(keyword) == tag, keyword
        assert dictionary_VR(tag) == vr, keyword


def test_the_vr_tables_are_pydicoms() -> None:
    assert set(plain_header.VRS) == {vr for vr in ENCODED_VR if len(vr) == 2}
    assert {vr.decode() for vr in plain_header.LONG_VRS} == set(EXPLICIT_VR_LENGTH_32)


def test_every_corpus_file_reads_as_with_pydicom() -> None:
    files = corpus()
    reader = CountingReader()
    for path in files:
        plain = _record_facts(discovery.read_record(str(path), reader))
        assert plain == outcome_with_pydicom(path), path
    # most of the corpus is read without pydicom (the rest: big endian, deflated, odd files)
    assert reader.read_plainly > 0.5 * len(files), (reader.read_plainly, len(files))


def test_values_read_plainly_are_header_values() -> None:
    """Each value of :data:`KEYWORDS` is what header_value reads from pydicom's data set, or
    the reader hands over."""
    compared = 0
    for path in corpus():
        try:
            header = PlainReader().read(str(path))
        except (HandOver, OSError):
            continue
        if isinstance(header, str):
            continue
        values = PlainReader().values(header)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            for keyword in KEYWORDS:
                if keyword in ("MediaStorageSOPClassUID", "TransferSyntaxUID"):
                    continue
                try:
                    plain = values.get(keyword, "absent")
                except HandOver:
                    continue
                assert plain == header_value(ds, keyword, "absent"), (path, keyword)
                compared += 1
    assert compared > 2000


def _same_length_uids(paths: list[Path]) -> None:
    """Give the files SOP Instance UIDs of one length (generated ones vary in length, and a
    walk is kept only for elements of the same lengths)."""
    for n, path in enumerate(paths):
        ds = pydicom.dcmread(path)
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.{1000 + n}"
        ds.save_as(path)


def test_a_series_is_read_with_one_walk(tmp_path: Path) -> None:
    written = gen.write_ct_series(tmp_path, count=12, size=16)
    _same_length_uids([item.path for item in written])
    reader = CountingReader()
    for item in written:
        plain = _record_facts(discovery.read_record(str(item.path), reader))
        assert plain == outcome_with_pydicom(item.path)
    assert reader.read_plainly == 12 and reader.kept_walks == 11 and reader.kept_records == 11


def test_a_series_whose_uids_differ_in_length_keeps_a_walk_for_each(tmp_path: Path) -> None:
    """A SOP Instance UID one digit shorter moves every element after it: the reader keeps
    both walks, and each file is made from the last of its walk."""
    written = gen.write_ct_series(tmp_path, count=12, size=16)
    for n, item in enumerate(written):
        ds = pydicom.dcmread(item.path)
        uid = f"1.2.826.0.1.{1000 + n}" + ("1" if n % 2 else "")
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid
        ds.save_as(item.path)
    reader = CountingReader()
    for item in written:
        outcome = discovery.read_record(str(item.path), reader)
        assert _record_facts(outcome) == outcome_with_pydicom(item.path)
        uid = pydicom.dcmread(item.path).SOPInstanceUID
        assert outcome[0].fields["sop_instance_uid"] == uid
    assert reader.read_plainly == 12 and reader.kept_walks == 10 and reader.kept_records == 10


def test_a_slice_unlike_its_neighbours_is_walked_again(tmp_path: Path) -> None:
    _same_length_uids([w.path for w in gen.write_ct_series(tmp_path, count=3, size=16)])
    odd = tmp_path / "slice_002.dcm"
    ds = pydicom.dcmread(odd)
    ds.SeriesDescription = "a longer description than its neighbours have"
    ds.save_as(odd)
    reader = CountingReader()
    paths = sorted(tmp_path.iterdir())
    for path in paths:
        assert _record_facts(discovery.read_record(str(path), reader)) == outcome_with_pydicom(path)
    # the third file is like the first again: made from its record, with its walk
    assert reader.read_plainly == 3 and reader.kept_walks == 1 and reader.kept_records == 1


def _damaged_copy(data: bytes, rng: random.Random) -> bytes:
    """``data`` with a few header bytes changed, or cut short."""
    mutant = bytearray(data)
    header_end = max(133, data.rfind(b"\xe0\x7f\x10\x00") + 12)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(132, header_end)
        mutant[at] = rng.choice((0x00, 0xFF, rng.randrange(256), data[at] ^ 0x80))
    if rng.random() < 0.2:
        del mutant[rng.randrange(132, header_end + 12) :]
    return bytes(mutant)


def test_damaged_copies_read_between_their_originals_read_as_with_pydicom(
    tmp_path: Path,
) -> None:
    """Each damaged copy comes right after its undamaged original: its damage is checked
    against the original's kept walk."""
    sources = _mutation_sources(tmp_path / "sources")
    sources += [w.path for w in gen.write_ct_series(tmp_path / "series", count=2, size=16)]
    folder = tmp_path / "mutants"
    folder.mkdir()
    rng = random.Random(2026)
    reader = CountingReader()
    outcomes = {"same walk": 0, "walked": 0}
    for n in range(MUTANTS):
        source = sources[rng.randrange(len(sources))]
        discovery.read_record(str(source), reader)
        path = folder / f"mutant_{n:04d}.dcm"
        path.write_bytes(_damaged_copy(source.read_bytes(), rng))
        kept = reader.kept_walks
        plain = _record_facts(discovery.read_record(str(path), reader))
        assert plain == outcome_with_pydicom(path), path
        outcomes["same walk" if reader.kept_walks > kept else "walked"] += 1
    # damage in values keeps the walk; damage in element headers must not
    assert outcomes["same walk"] > MUTANTS // 10 and outcomes["walked"] > MUTANTS // 10, outcomes


def test_the_scan_reads_a_series_without_importing_pydicom(tmp_path: Path) -> None:
    gen.write_ct_series(tmp_path, count=20, size=16)
    code = (
        "import sys\n"
        "from dcmview.core.session import Session\n"
        f"s = Session([{str(tmp_path)!r}])\n"
        "s.scan()\n"
        "print(len(s.files), 'pydicom' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["20", "False"]


@pytest.mark.parametrize("depth", [2, 8, 9, 40])
def test_nested_sequences_are_walked_or_handed_over(tmp_path: Path, depth: int) -> None:
    from . import malformed

    path = malformed.deep_sequences(tmp_path, depth)
    reader = CountingReader()
    plain = _record_facts(discovery.read_record(str(path), reader))
    assert plain == outcome_with_pydicom(path)
    assert reader.read_plainly == (1 if depth <= plain_header._DEEPEST else 0)


def test_the_character_set_table_is_pydicoms() -> None:
    from pydicom.charset import python_encoding

    for name, codec in plain_header.CHARSETS.items():
        assert python_encoding[name] == codec, name


# (Specific Character Set, raw Patient Name, raw Study Description)
NAMES = [
    ("ISO_IR 192", "Müller^Anna".encode(), "Thörax  \\ Bauch ".encode()),
    ("ISO_IR 192", b"M\xc3\xbcller^Anna \x00", b"caf\xc3\xa9 "),
    ("ISO_IR 192", b"Bad\xff\xfe^Bytes", b"\xc3"),
    ("ISO_IR 100", "Ångström^Åsa".encode("latin-1"), "Étude".encode("latin-1")),
    (None, "Çelik^Ömer".encode("latin-1"), b"plain"),
    ("ISO_IR 144", "Иванов^Иван".encode("iso8859_5"), "Голова".encode("iso8859_5")),
    ("ISO 2022 IR 87", b"\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B", b"plain"),
    ("ISO_IR 13", "ﾔﾏﾀﾞ^ﾀﾛｳ".encode("shift_jis"), b"plain"),
    ("ISO_IR 192", "Ωmega\\Two^Names".encode(), "α\\β\\ γ ".encode()),
]


@pytest.mark.parametrize("charset,name,description", NAMES)
def test_names_in_a_character_set_read_as_with_pydicom(
    tmp_path: Path, charset: str | None, name: bytes, description: bytes
) -> None:
    """Non-ASCII names and descriptions, in a series: the first file is read by the
    builders, the next from it (the name is not a per-file value)."""
    written = gen.write_ct_series(tmp_path, count=3, size=16)
    for item in written:
        ds = pydicom.dcmread(item.path)
        if charset is not None:
            ds.SpecificCharacterSet = charset
        elif "SpecificCharacterSet" in ds:
            del ds.SpecificCharacterSet
        ds.PatientName = name.decode("latin-1")  # raw bytes below, whatever the charset
        ds["PatientName"].value = name
        ds.StudyDescription = "x"
        ds["StudyDescription"].value = description
        ds.save_as(item.path)
    reader = CountingReader()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for item in written:
            plain = _record_facts(discovery.read_record(str(item.path), reader, True))
            with pydicom_only():
                slow = _record_facts(discovery.read_record(str(item.path), None, True))
            assert plain == slow
    # ASCII bytes (ISO 2022's 7-bit codes too) are read as header_value reads them
    readable = charset is None or charset in plain_header.CHARSETS
    assert reader.read_plainly == (3 if readable or (name + description).isascii() else 0)
