"""Result files (HDF5, SPEC section 10), written atomically, read back as :class:`Result`.

Layout: root attributes ``hjb_version``, ``kind``, ``case``, ``created``;
coordinates as 1-D datasets attached as dimension scales (so xarray with the
h5netcdf engine sees named coordinates); one dataset per result array; a sweep
stores one group per member.
"""
from __future__ import annotations

import datetime
import os
import tempfile

import h5py
import numpy as np

from . import __version__
from .errors import InputError
from .result import Result


def _write(group: h5py.Group, result: Result) -> None:
    for name, values in result.coords.items():
        ds = group.create_dataset(name, data=np.asarray(values))
        ds.make_scale(name)
    for name, values in result.data.items():
        if name in result.coords:
            continue
        ds = group.create_dataset(name, data=values, compression="gzip" if values.size > 4096 else None)
        ds.attrs["dims"] = ",".join(result.dims[name])
        for axis, dim in enumerate(result.dims[name]):
            if dim in result.coords:
                ds.dims[axis].attach_scale(group[dim])
    for key, value in result.attrs.items():
        group.attrs[key] = value
    for member, sub in result.members.items():
        _write(group.create_group(member), sub)


def save(result: Result, path, force: bool = False) -> str:
    """Write ``result`` to ``path`` through a temporary file in the same directory.

    An existing file is kept unless ``force``; an interrupted write leaves no
    partial file behind.
    """
    path = os.fspath(path)
    if os.path.exists(path) and not force:
        raise InputError(path, "exists already; pass --force (force=True) to overwrite it")
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as fh:
            fh.attrs["hjb_version"] = __version__
            fh.attrs["kind"] = result.kind
            fh.attrs["case"] = result.case_text
            fh.attrs["created"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
            _write(fh, result)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def _attr(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _read(group: h5py.Group, kind: str) -> Result:
    result = Result(kind)
    for name, item in group.items():
        if isinstance(item, h5py.Group):
            result.members[name] = _read(item, kind)
        elif item.is_scale:
            result.coords[name] = item[()]
    for name, item in group.items():
        if isinstance(item, h5py.Dataset) and not item.is_scale:
            dims = tuple(str(_attr(item.attrs["dims"])).split(",")) if item.attrs.get("dims") else ()
            result.add(name, item[()], dims if len(dims) == item.ndim else tuple(f"dim{i}" for i in range(item.ndim)))
    result.attrs = {k: _attr(v) for k, v in group.attrs.items()
                    if k not in ("hjb_version", "kind", "case", "created")}
    return result


def load(path) -> Result:
    """Read a result file written by :func:`save`."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(path, "result file not found")
    try:
        fh = h5py.File(path, "r")
    except OSError:
        raise InputError(path, "not an HDF5 result file") from None
    with fh:
        if "kind" not in fh.attrs:
            raise InputError(path, "not an hjb result file (no 'kind' attribute)")
        result = _read(fh, str(_attr(fh.attrs["kind"])))
        result.case_text = str(_attr(fh.attrs.get("case", "")))
        result.attrs.update(created=str(_attr(fh.attrs.get("created", ""))),
                            hjb_version=str(_attr(fh.attrs.get("hjb_version", ""))))
    return result
