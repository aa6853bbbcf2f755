"""The scanning header reader against pydicom's ``dcmread``: the same records, or a hand-over.

Every file of pydicom's test files (recursively) and of the pydicom-data package, a few built
structures the corpus lacks, and 1,000 copies of real files with damaged headers are read twice:
by the scanning reader and by ``pydicom.dcmread(fp, stop_before_pixels=True)``. Where the reader
answers, its data set must hold the same elements as pydicom's (raw bytes, positions, encoding)
and ``read_record`` must give the same record or the same reason to skip the file.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import random
import struct
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import pydicom
import pytest
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from dcmview.core import discovery, header_reader
from dcmview.core.header_reader import FIRST_READ, Header, read_header
from dcmview.core.header_values import has_element, uid_value
from dcmview.core.plain_header import HandOver

from . import dicomgen as gen
from . import malformed

MUTANTS = 1000


def corpus() -> list[Path]:
    """pydicom's test files (recursively) and pydicom-data's files."""
    root = Path(pydicom.__file__).parent / "data" / "test_files"
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return files + gen.pydicom_data_files()


def _pydicom_header(path: Path) -> Header:
    with open(path, "rb") as fp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(fp, stop_before_pixels=True)
        offset = fp.tell()
        return Header(ds, offset, fp.read(12), os.path.getsize(path))


def _fast_header(path: Path) -> Header | None:
    with open(path, "rb") as fp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_header(fp)


def _hand_over(*args: object) -> None:
    raise HandOver


@contextmanager
def without_plain_reader() -> Iterator[None]:
    """``read_record`` with the plain reader (plain_header.py) always handing over."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(discovery, "_read_plain", _hand_over)
        yield


@contextmanager
def pydicom_only() -> Iterator[None]:
    """``read_record`` with both scanning readers always handing over: pydicom's own path."""
    with without_plain_reader(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(header_reader, "read_header", lambda fp: None)
        yield


def _element_facts(element: RawDataElement | DataElement) -> tuple[Any, ...]:
    """What an element holds: raw bytes and where they were read, or its converted value."""
    if isinstance(element, RawDataElement):
        return tuple(element)
    value = element.value
    if isinstance(value, Sequence):
        value = [
            (
                _dataset_facts(item),
                item.original_encoding,
                item.original_character_set,
                item.is_undefined_length_sequence_item,
            )
            for item in value
        ]
    return (element.tag, element.VR, value, element.file_tell, element.is_undefined_length)


def _converted(element: RawDataElement | DataElement) -> tuple[Any, ...]:
    if isinstance(element, RawDataElement):
        try:
            element = convert_raw_data_element(element)
        except Exception as exc:
            return ("fails", type(exc).__name__)
    return (element.tag, element.VR, repr(element.value), element.file_tell)


def _dataset_facts(ds: Dataset) -> dict[int, tuple[Any, ...]]:
    return {tag: _element_facts(element) for tag, element in ds._dict.items()}


def assert_same_dataset(fast: Dataset, slow: Dataset) -> None:
    """Same tags, and each element the same raw element, or the same once converted (pydicom
    converts a few elements while reading: the transfer syntax, the character set)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert fast._dict.keys() == slow._dict.keys()
        for tag, a in fast._dict.items():
            b = slow._dict[tag]
            if type(a) is type(b):
                assert _element_facts(a) == _element_facts(b), tag
            else:
                assert _converted(a) == _converted(b), tag


def assert_same_attributes(fast: Dataset, slow: Dataset) -> None:
    """Every attribute of the dataset objects (the elements are compared apart)."""
    a, b = dict(vars(fast)), dict(vars(slow))
    for name in ("_dict", "file_meta"):
        a.pop(name, None), b.pop(name, None)
    assert a == b


def assert_same_header(fast: Header, slow: Header) -> None:
    assert_same_dataset(fast.dataset, slow.dataset)
    assert_same_dataset(fast.dataset.file_meta, slow.dataset.file_meta)
    assert type(fast.dataset) is type(slow.dataset)
    assert type(fast.dataset.file_meta) is type(slow.dataset.file_meta)
    assert_same_attributes(fast.dataset, slow.dataset)
    assert_same_attributes(fast.dataset.file_meta, slow.dataset.file_meta)
    assert (fast.pixel_offset, fast.pixel_head, fast.file_size) == (
        slow.pixel_offset,
        slow.pixel_head,
        slow.file_size,
    )


def _record_facts(outcome: tuple[Any, Any, str | None]) -> tuple[Any, ...]:
    """Everything of a ``read_record`` outcome but the data set: the record's fields (geometry
    and sort key included, which the record's own equality leaves out) or the reason."""
    record, _, reason = outcome
    if record is None:
        return (None, reason)
    facts = dataclasses.asdict(record)
    geometry = facts.pop("geometry")
    frames = geometry.pop("frames", None) if geometry else None
    if frames:
        geometry["frames"] = {
            k: None if v is None else (v.shape, v.tobytes()) for k, v in frames.items()
        }
    # repr: a NaN read from a damaged value must compare equal to itself
    return (repr(facts), repr(record.sort_key), repr(geometry), reason)


def check_file(path: Path) -> str:
    """Read ``path`` both ways and assert they agree; say how: read, handed over, rejected."""
    with pydicom_only():
        slow_record = _record_facts(discovery.read_record(str(path)))
    with without_plain_reader():
        fast_record = _record_facts(discovery.read_record(str(path)))
    assert fast_record == slow_record, path
    try:
        fast = _fast_header(path)
    except InvalidDicomError as exc:
        with pytest.raises(InvalidDicomError) as expected:
            _pydicom_header(path)
        assert str(exc) == str(expected.value)
        return "rejected"
    if fast is None:
        return "handed over"
    assert_same_header(fast, _pydicom_header(path))
    return "read"


def test_every_corpus_file_reads_as_with_pydicom() -> None:
    files = corpus()
    assert len(files) > 140
    outcomes = [check_file(path) for path in files]
    # the reader must really read the corpus, not hand everything over
    assert outcomes.count("read") > 0.85 * len(files), outcomes
    assert outcomes.count("rejected") > 0


def test_each_dataset_owns_its_containers(tmp_path: Path) -> None:
    paths = [gen.write_image(tmp_path / f"{n}.dcm", gen.phantom(4, 4)) for n in range(2)]
    first, second = (_fast_header(path) for path in paths)
    assert first is not None and second is not None
    for a, b in (
        (first.dataset, second.dataset),
        (first.dataset.file_meta, second.dataset.file_meta),
    ):
        shared = [k for k, v in vars(a).items() if isinstance(v, dict | list) and v is vars(b)[k]]
        assert shared == []


# ---------------------------------------------------------------- structures the corpus lacks


@pytest.mark.parametrize(
    "syntax", ["1.2.840.10008.1.2.1", ImplicitVRLittleEndian, ExplicitVRBigEndian]
)
@pytest.mark.parametrize("value", ["YES", "NO", "yes ", None])
def test_burned_in_annotation_reads_as_with_pydicom(
    tmp_path: Path, syntax: str, value: str | None
) -> None:
    extra = {} if value is None else {"BurnedInAnnotation": value}
    path = gen.write_image(
        tmp_path / "burned.dcm", gen.phantom(8, 8), transfer_syntax=syntax, extra=extra
    )
    assert check_file(path) == "read"
    record, _, _ = discovery.read_record(str(path))
    assert record is not None
    expected = {"YES": "YES", "NO": "NO", "yes ": "YES", None: ""}[value]
    assert record.fields["burned_in_annotation"] == expected


def test_header_beyond_the_first_read_is_read_whole(tmp_path: Path) -> None:
    path = gen.write_image(tmp_path / "long.dcm", gen.phantom(8, 8))
    ds = pydicom.dcmread(path)
    ds.add_new(0x00091010, "LO", "DCMVIEW")
    ds.add_new(0x00091011, "OB", bytes(range(256)) * (3 * FIRST_READ // 256))
    ds.save_as(path)
    header = _fast_header(path)
    assert header is not None and header.pixel_offset > 3 * FIRST_READ
    assert_same_header(header, _pydicom_header(path))
    assert check_file(path) == "read"


def _nested_undefined_lengths(path: Path, transfer_syntax: str) -> Path:
    written = gen.write_image(path, gen.phantom(8, 8), transfer_syntax=transfer_syntax)
    ds = pydicom.dcmread(written)
    inner = Dataset()
    inner.CodeValue = "113691"
    inner.CodeMeaning = "IHE Scheduled Workflow"
    inner.is_undefined_length_sequence_item = True
    middle = Dataset()
    middle.ConceptNameCodeSequence = [inner]
    middle["ConceptNameCodeSequence"].is_undefined_length = True
    middle.is_undefined_length_sequence_item = True
    ds.ContentSequence = [middle, Dataset()]
    ds["ContentSequence"].is_undefined_length = True
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = "Müller^Jörg"
    ds.save_as(path, enforce_file_format=True)
    assert b"\xfe\xff\xdd\xe0" in path.read_bytes() or b"\xff\xfe\xe0\xdd" in path.read_bytes()
    return path


@pytest.mark.parametrize(
    "syntax", ["1.2.840.10008.1.2.1", ImplicitVRLittleEndian, ExplicitVRBigEndian]
)
def test_nested_undefined_length_sequences_are_read_as_pydicom_reads_them(
    tmp_path: Path, syntax: str
) -> None:
    path = _nested_undefined_lengths(tmp_path / "nested.dcm", syntax)
    header = _fast_header(path)
    assert header is not None
    sequence = header.dataset["ContentSequence"]
    assert sequence.is_undefined_length and len(sequence.value) == 2
    assert str(header.dataset.PatientName) == "Müller^Jörg"
    assert_same_header(header, _pydicom_header(path))
    assert check_file(path) == "read"


def test_a_file_without_the_dicm_prefix_fails_as_with_dcmread(tmp_path: Path) -> None:
    for path in (gen.write_not_dicom(tmp_path), gen.write_empty(tmp_path)):
        assert check_file(path) == "rejected"


def _explicit_data_under_implicit_syntax(folder: Path) -> Path:
    path = gen.write_image(folder / "switch.dcm", gen.phantom(8, 8))
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.save_as(path, implicit_vr=False, little_endian=True, force_encoding=True)
    return path


def _spliced(folder: Path, name: str, before: bytes, insert: bytes, syntax: str) -> Path:
    """A valid file with ``insert`` spliced in front of the data set element ``before``."""
    data = gen.write_image(folder / name, gen.phantom(8, 8), transfer_syntax=syntax).read_bytes()
    at = data.index(before, _dataset_start(data)) if before else _dataset_start(data)
    path = folder / name
    path.write_bytes(data[:at] + insert + data[at:])
    return path


def _dataset_start(data: bytes) -> int:
    (group_length,) = struct.unpack_from("<L", data, 140)
    return 144 + group_length


def _odd_structures() -> dict[str, Callable[[Path], Path]]:
    odd: dict[str, Callable[[Path], Path]] = {
        "explicit data under an implicit transfer syntax": _explicit_data_under_implicit_syntax
    }
    for syntax, name in (
        (ExplicitVRLittleEndian, "explicit"),
        (ImplicitVRLittleEndian, "implicit"),
    ):
        odd[f"an item delimiter at the top level ({name})"] = functools.partial(
            _spliced,
            name="delimiter.dcm",
            before=b"\x10\x00\x10\x00",
            insert=malformed.ITEM_DELIMITER,
            syntax=syntax,
        )
        odd[f"a command set before the data set ({name})"] = functools.partial(
            _spliced,
            name="command.dcm",
            before=b"",
            insert=struct.pack("<HHLH", 0, 0x0100, 2, 1),
            syntax=syntax,
        )
    return odd


ODD_STRUCTURES = _odd_structures()


@pytest.mark.parametrize("structure", sorted(ODD_STRUCTURES))
def test_structures_pydicom_reads_its_own_way_go_to_pydicom(tmp_path: Path, structure: str) -> None:
    path = ODD_STRUCTURES[structure](tmp_path)
    assert check_file(path) == "handed over"


def test_deflated_files_go_to_pydicom(tmp_path: Path) -> None:
    written = gen.write_syntax(tmp_path, "1.2.840.10008.1.2.1.99", kind="grey16", name="d.dcm")
    assert _fast_header(written.path) is None
    assert check_file(written.path) == "handed over"


# ---------------------------------------------------------------- damaged headers


def _mutation_sources(folder: Path) -> list[Path]:
    """Small real files in every encoding the reader reads: generated and from the corpus."""
    folder.mkdir()
    sources = malformed.mutation_sources(folder)
    sources.append(_nested_undefined_lengths(folder / "nested.dcm", ImplicitVRLittleEndian))
    sources.append(_nested_undefined_lengths(folder / "nested_be.dcm", ExplicitVRBigEndian))
    for path in corpus():
        if path.stat().st_size < 200_000 and _readable(path):
            sources.append(path)
    return sources


def _readable(path: Path) -> bool:
    try:
        return _fast_header(path) is not None
    except InvalidDicomError:
        return False


def _length_fields(path: Path) -> list[tuple[int, int, str]]:
    """``(offset, size, byte order)`` of the length field of each top-level element."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    fields = []
    for meta, elements in ((True, ds.file_meta._dict), (False, ds._dict)):
        for element in elements.values():
            if not isinstance(element, RawDataElement):
                continue
            order = "<" if meta or element.is_little_endian else ">"
            short = not element.is_implicit_VR and element.VR not in (
                "OB",
                "OD",
                "OF",
                "OL",
                "OV",
                "OW",
                "SQ",
                "SV",
                "UC",
                "UN",
                "UR",
                "UT",
                "UV",
            )
            size = 2 if short else 4
            fields.append((element.value_tell - size, size, order))
    return fields


def header_mutants(sources: list[Path], folder: Path, count: int, seed: int = 14) -> list[Path]:
    """``count`` copies of ``sources`` with damaged headers: byte flips, changed lengths and
    truncations, all within the header (the file meta and the elements before Pixel Data)."""
    rng = random.Random(seed)
    originals = [(p.read_bytes(), _length_fields(p), p.stem) for p in sources]
    written = []
    for n in range(count):
        data, lengths, stem = originals[rng.randrange(len(originals))]
        mutant = bytearray(data)
        header_end = max(133, min(len(data), _header_end(data)))
        kinds = [rng.choice(("flip", "length")) for _ in range(rng.randint(0, 3))]
        for kind in kinds:
            if kind == "flip" or not lengths:
                at = rng.randrange(132, header_end)
                mutant[at] = rng.choice((0x00, 0xFF, rng.randrange(256), data[at] ^ 0x80))
            else:
                at, size, order = rng.choice(lengths)
                byteorder: Literal["little", "big"] = "little" if order == "<" else "big"
                old = int.from_bytes(data[at : at + size], byteorder)
                top = 2 ** (8 * size)
                new = rng.choice((0, old + 2, old - 2, old * 2, top - 1, rng.randrange(top)))
                mutant[at : at + size] = (new % top).to_bytes(size, byteorder)
        if not kinds or rng.random() < 0.3:
            del mutant[rng.randrange(132, header_end + 12) :]
        path = folder / f"mutant_{n:04d}_{stem}.dcm"
        path.write_bytes(bytes(mutant))
        written.append(path)
    return written


def _header_end(data: bytes) -> int:
    at = data.rfind(malformed.PIXEL_DATA_TAG)
    return at + 12 if at > 132 else len(data)


def test_damaged_headers_read_as_with_pydicom_or_go_to_pydicom(tmp_path: Path) -> None:
    sources = _mutation_sources(tmp_path / "sources")
    assert len(sources) > 100
    folder = tmp_path / "mutants"
    folder.mkdir()
    outcomes = [check_file(path) for path in header_mutants(sources, folder, MUTANTS)]
    # the damage is varied enough to reach every outcome, and the reader still reads many
    counts = {o: outcomes.count(o) for o in set(outcomes)}
    assert counts.get("read", 0) > MUTANTS // 10 and counts.get("handed over", 0) > 50, counts


# ---------------------------------------------------------------- the scan's cheaper lookups


UID_VALUES = [
    b"1.2.840.10008.1.2.1\0",
    b" 1.2.3 ",
    b"1.2.3\0\0",
    b"\t1.2.3\n",
    b"1.2\\3.4",
    b"1.2\0 ",
]


@pytest.mark.parametrize("value", UID_VALUES)
@pytest.mark.parametrize("vr", ["UI", None, "LO"])
def test_uid_value_is_pydicoms_text_of_the_uid(value: bytes, vr: str | None) -> None:
    ds = Dataset()
    tag = BaseTag(0x00020010)
    ds._dict[tag] = RawDataElement(tag, vr, len(value), value, 0, vr is None, True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = uid_value(ds, "TransferSyntaxUID")
        assert fast == str(ds.get("TransferSyntaxUID", ""))
    assert uid_value(Dataset(), "TransferSyntaxUID") == ""


def test_uid_values_and_presence_agree_with_pydicom_on_the_corpus() -> None:
    keywords = ["Rows", "PixelPaddingValue", "ModalityLUTSequence", "VOILUTSequence", "Modality"]
    checked = 0
    for path in corpus():
        try:
            header = _fast_header(path)
        except InvalidDicomError:
            continue
        if header is None:
            continue
        ds, meta = header.dataset, header.dataset.file_meta
        assert [has_element(ds, k) for k in keywords] == [k in ds for k in keywords]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for keyword in ("TransferSyntaxUID", "MediaStorageSOPClassUID"):
                fast = uid_value(meta, keyword)
                assert fast == str(meta.get(keyword, "")), (path, keyword)
        checked += 1
    assert checked > 150
