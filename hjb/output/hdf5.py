"""Result files (HDF5, SPEC section 10), written atomically, read back as :class:`Result`.

Layout: root attributes ``hjb_version``, ``kind``, ``case``, ``created``;
coordinates as 1-D datasets attached as dimension scales (so xarray with the
h5netcdf engine sees named coordinates); one dataset per result array; a sweep
stores one group per member.  An axis that is not a coordinate (``pair``,
``candidate``, ``component``, ``path``) gets a netCDF-4 "dimension without
variable" scale, so that every axis of every dataset has a name in xarray.
"""
from __future__ import annotations

import datetime
import errno
import io
import json
import os

import h5py
import numpy as np

from ..errors import InputError
from ..version import __version__
from .atomic import WriteError, atomic_path
from .result import Result


#: The NAME of a netCDF-4 dimension scale that is not a variable (followed by its length).
NOT_A_VARIABLE = "This is a netCDF dimension but not a netCDF variable."


def _index_scales(group: h5py.Group, result: Result) -> None:
    """A bare dimension scale for every axis name that is not a coordinate."""
    sizes = {}
    for name, values in result.data.items():
        for dim, n in zip(result.dims[name], values.shape):
            if dim not in result.coords:
                if sizes.setdefault(dim, n) != n:
                    raise ValueError(f"axis '{dim}' has lengths {sizes[dim]} and {n}")
    for dim, n in sizes.items():
        if dim in result.data:
            raise ValueError(f"'{dim}' names both an axis and a dataset; use a coordinate instead")
        ds = group.create_dataset(dim, shape=(n,), dtype="f4")
        ds.make_scale(f"{NOT_A_VARIABLE}{n:10d}")


def _attribute(value):
    """Attribute values HDF5 (and netCDF readers) store as they are; others as JSON text."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (int, float, str, np.integer, np.floating)):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return value
    return json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v))


#: CF-style long names of the coordinates every kind uses (units: dimensionless "1").
COORDINATE_NAMES = {"x": "slow variable x", "y": "fast variable y", "time": "time t",
                    **{f"x{k}": f"slow variable, component {k}" for k in (1, 2, 3)},
                    **{f"y{k}": f"fast variable, component {k}" for k in (1, 2, 3)}}


def _describe(ds: h5py.Dataset, meta: dict) -> None:
    for key, value in meta.items():
        ds.attrs[key] = _attribute(value)


def _stamp(group: h5py.Group, result: Result) -> None:
    """What makes a file, or a sweep member's group, self-describing."""
    group.attrs["hjb_version"] = __version__
    group.attrs["kind"] = result.kind
    group.attrs["case"] = result.case_text
    group.attrs["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _write(group: h5py.Group, result: Result) -> None:
    for name, values in result.coords.items():
        ds = group.create_dataset(name, data=np.asarray(values))
        ds.make_scale(name)
        _describe(ds, result.meta.get(name) or ({"long_name": COORDINATE_NAMES[name], "units": "1"}
                                                 if name in COORDINATE_NAMES else {}))
    _index_scales(group, result)
    for name, values in result.data.items():
        if name in result.coords:
            continue
        ds = group.create_dataset(name, data=values, compression="gzip" if values.size > 4096 else None)
        ds.attrs["dims"] = ",".join(result.dims[name])
        _describe(ds, result.meta.get(name, {}))
        for axis, dim in enumerate(result.dims[name]):
            ds.dims[axis].attach_scale(group[dim])
    for key, value in result.attrs.items():
        if value is not None:
            group.attrs[key] = _attribute(value)
    for member, sub in result.members.items():        # in run order (track_order)
        child = group.create_group(member, track_order=True)
        _stamp(child, sub)
        _write(child, sub)


def _same(stored, expected) -> bool:
    stored, expected = np.asarray(stored), np.asarray(expected)
    if stored.shape != expected.shape:
        return False
    if expected.dtype.kind == "f":
        return bool(np.array_equal(stored, expected, equal_nan=True))
    return bool(np.array_equal(stored, expected))


def _verify_group(group: h5py.Group, result: Result, where: str) -> None:
    for name, values in {**result.coords, **result.data}.items():
        if name not in group or not _same(group[name][()], values):
            raise WriteError(errno.EIO, f"'{where}{name}' reads back differently from what was written")
    for member, sub in result.members.items():
        _verify_group(group[member], sub, f"{where}{member}/")


def verify(path: str, result: Result) -> None:
    """Re-open a written file and check that every array reads back exactly (a torn write cannot pass)."""
    with h5py.File(path, "r") as fh:
        if fh.attrs.get("kind") != result.kind:
            raise WriteError(errno.EIO, "the root attributes did not survive the write")
        _verify_group(fh, result, "")


def _versions() -> dict:
    """The versions a result was computed with (hjb's is ``hjb_version``)."""
    import platform

    import scipy
    return {"numpy": np.__version__, "scipy": scipy.__version__, "h5py": h5py.__version__,
            "python": platform.python_version()}


#: Root attributes that describe the file, not the result.
FILE_ATTRS = ("hjb_version", "kind", "case", "created", "numpy_version", "scipy_version", "h5py_version",
              "python_version")


def save(result: Result, path, force: bool = False) -> str:
    """Write ``result`` to ``path`` atomically and check it (see :mod:`hjb.output.atomic`).

    An existing file is kept unless ``force``; a failed or interrupted write leaves
    the previous file as it was and no temporary file behind.

    The file is self-describing (SPEC section 10): root attributes
    ``hjb_version``, ``kind``, ``case`` (the TOML text as run) and ``created``;
    coordinates as HDF5 dimension scales, so that xarray opens it with named
    coordinates (``xr.open_dataset(path, engine="h5netcdf")``, a sweep member
    with ``group="eps=0.01"``); one dataset per array; one group per sweep member.

    Parameters
    ----------
    result : Result
        What :func:`hjb.run` returned (or one built by hand).
    path : str or path-like
        The file to write; missing folders are created.
    force : bool, default False
        Overwrite an existing file.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    InputError
        The file exists (without ``force``) or cannot be written.

    Example
    -------
    >>> import os, tempfile, numpy as np, hjb
    >>> result = hjb.Result("effective", coords={"x": np.linspace(-1.0, 1.0, 3)})
    >>> result.add("value", np.array([1.0, 0.0, 1.0]), ("x",))
    >>> path = hjb.save(result, os.path.join(tempfile.mkdtemp(), "out.h5"))
    >>> back = hjb.load(path)
    >>> back.kind, back["value"], back.dims["value"], back.attrs["hjb_version"] == hjb.__version__
    ('effective', array([1., 0., 1.]), ('x',), True)
    """
    path = os.fspath(path)
    # HDF5 builds the file in memory; Python writes the bytes.  HDF5 writing to a full disk
    # itself reports the error only while it cleans up (where Python ignores it) and can
    # crash the process at exit; a Python write raises at once.
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", track_order=True) as fh:
        _stamp(fh, result)
        for library, version in _versions().items():
            fh.attrs[f"{library}_version"] = version
        _write(fh, result)
    data = buffer.getbuffer()
    with atomic_path(path, force=force, verify=lambda tmp: verify(tmp, result), needed=len(data)) as tmp:
        with open(tmp, "wb") as out:
            out.write(data)
    return path


def _attr(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _is_index(item: h5py.Dataset) -> bool:
    return NOT_A_VARIABLE in str(_attr(item.attrs.get("NAME", b"")))


def _scale_name(item: h5py.Dataset, axis: int) -> str:
    """The name of the dimension scale attached to an axis (files without a ``dims`` attribute)."""
    scales = item.dims[axis]
    return scales[0].name.rsplit("/", 1)[-1] if len(scales) else f"dim{axis}"


def _read(group: h5py.Group, kind: str) -> Result:
    result = Result(kind)
    for name, item in group.items():
        if isinstance(item, h5py.Group):
            result.members[name] = _read(item, kind)
        elif item.is_scale and not _is_index(item):
            result.coords[name] = item[()]
    for name, item in group.items():
        if isinstance(item, h5py.Dataset) and not item.is_scale:
            if item.dtype.kind not in "biuf":
                raise InputError(name, f"holds {item.dtype} data, not numbers")
            dims = tuple(str(_attr(item.attrs["dims"])).split(",")) if item.attrs.get("dims") else \
                tuple(_scale_name(item, axis) for axis in range(item.ndim))
            result.add(name, item[()], dims if len(dims) == item.ndim else tuple(f"dim{i}" for i in range(item.ndim)))
    for name, item in group.items():
        meta = {k: _attr(v) for k, v in item.attrs.items() if k in ("long_name", "units", "coordinates")} \
            if isinstance(item, h5py.Dataset) else {}
        if meta:
            result.meta[name] = meta
    result.attrs = {k: _attr(v) for k, v in group.attrs.items() if k not in FILE_ATTRS}
    if group.name != "/":
        result.case_text = str(_attr(group.attrs.get("case", "")))
    order = result.attrs.get("member_order")
    if isinstance(order, str) and set(order.split("\n")) == set(result.members):
        result.members = {name: result.members[name] for name in order.split("\n")}
    return result


def load(path) -> Result:
    """Read a result file written by :func:`hjb.save` back into a :class:`hjb.Result`.

    The same Result that :func:`hjb.run` returned, sweeps included, with
    ``case_text`` and the attributes ``created`` and ``hjb_version`` of the file.

    Parameters
    ----------
    path : str or path-like
        The result file.

    Returns
    -------
    Result

    Raises
    ------
    InputError
        A missing file, one that is not HDF5 or not written by hjb, or a
        corrupt one (one line naming the file).

    Example
    -------
    See :func:`hjb.save`.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(path, "result file not found")
    try:
        fh = h5py.File(path, "r")
    except OSError:
        raise InputError(path, "not an HDF5 result file") from None
    with fh:
        try:
            if "kind" not in fh.attrs:
                raise InputError("kind", "is missing: not an hjb result file")
            result = _read(fh, str(_attr(fh.attrs["kind"])))
            result.case_text = str(_attr(fh.attrs.get("case", "")))
            result.attrs.update({k: str(_attr(fh.attrs[k])) for k in FILE_ATTRS
                             if k not in ("kind", "case") and k in fh.attrs})
        except InputError as exc:
            if exc.key == "kind":
                raise InputError(path, "not an hjb result file (no 'kind' attribute)") from None
            raise InputError(path, f"dataset '{exc.key}' {exc.message}") from None
        except (OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:
            # a corrupt file (bit flips fail HDF5's checks), or one not written by hjb
            raise InputError(path, f"unreadable result file ({type(exc).__name__}: {exc})") from None
    return result
