"""Command line: ``hjb run | list | show | plot`` (SPEC section 10).

Exit codes: 0 success, 2 bad input (one line on stderr naming the key, no
traceback, no output file), 1 an internal failure (a NaN/Inf in a solve is
reported on one line with the solver, the step and the grid node), 130 when
interrupted (the previous result file is left as it was).
"""
from __future__ import annotations

import argparse
import glob
import logging
import os
import shutil
import signal
import sys
import traceback
import warnings

from .errors import InputError, NonFiniteError
from .runner.shipped import case_file, cases_folder
from .output.terminal import one_line, printable, progress_bar
from .output.atomic import WriteError
from .version import __version__

log = logging.getLogger("hjb")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line and exit 2, as for every other user mistake
        self.exit(2, f"hjb: {one_line(message)}\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                        help="log what happens (-vv: more)")
    parser = _Parser(prog="hjb", description="Solvers for the PDEs of deep relaxation.", parents=[common])
    parser.add_argument("--version", action="version", version=f"hjb {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run a case file", parents=[common])
    run.add_argument("case", help="a case file, or the name of a shipped case (see hjb list)")
    run.add_argument("-o", "--output", help="result file (default: [output].file, else results/<case>.h5)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a case key by its dotted path (value parsed as TOML)")
    run.add_argument("--force", action="store_true",
                     help="overwrite an existing result file (and discard an interrupted sweep's members)")
    run.add_argument("--quiet", action="store_true", help="no progress bar, no summary line")
    run.add_argument("--ci", action="store_true", help="apply the case's [ci] overrides (reduced resolution)")
    run.add_argument("--workers", type=_positive_int, default=None,
                     help="sweep members run on a local Dask cluster of N processes "
                          "(default: serially, in this process)")
    run.add_argument("--scheduler", metavar="ADDRESS", help="run sweep members on this Dask scheduler")
    run.add_argument("--resume", action="store_true",
                     help="keep the finished members of an interrupted sweep, compute the rest")
    run.add_argument("--max-memory-share", metavar="SHARE", default=None,
                     help="refuse a solve whose memory estimate exceeds SHARE of the available memory "
                          "(default 0.5, or HJB_MEMORY_SHARE)")
    lst = sub.add_parser("list", help="the shipped cases", parents=[common])
    lst.add_argument("--cases", default=None, help="case folder (default: the shipped cases)")
    show = sub.add_parser("show", help="what a result file holds", parents=[common])
    show.add_argument("file")
    plot = sub.add_parser("plot", help="the natural picture of a result file", parents=[common])
    plot.add_argument("file")
    plot.add_argument("-o", "--output", help="figure file (default: the result file with .png)")
    plot.add_argument("--force", action="store_true", help="overwrite an existing figure")
    return parser


def _output_path(args, case) -> str:
    if args.output:
        return args.output
    out = case.data.get("output", {})
    if isinstance(out, dict) and isinstance(out.get("file"), str):
        return out["file"]
    return os.path.join("results", os.path.splitext(os.path.basename(args.case))[0] + ".h5")


def cmd_run(args) -> int:
    from .runner.environment import SHARE_VARIABLE, parse_share
    if args.max_memory_share is None:
        return _run(args)
    share = parse_share(args.max_memory_share, "--max-memory-share")
    previous = os.environ.get(SHARE_VARIABLE)
    os.environ[SHARE_VARIABLE] = repr(share)          # inherited by Dask workers started for this run
    try:
        return _run(args)
    finally:
        if previous is None:
            os.environ.pop(SHARE_VARIABLE, None)
        else:
            os.environ[SHARE_VARIABLE] = previous


def _run(args) -> int:
    from .output.atomic import check_target
    from .output.hdf5 import save
    from .runner.case import apply_ci, case_from_dict, load_case
    from .runner.registry import kind_spec
    from .runner.run import discard_partial, run
    from .runner.sweep import sweep_key, sweep_members
    from .runner.validate import validate
    if args.scheduler and args.workers:
        raise InputError("--scheduler", "use either --scheduler or --workers, not both")
    case = load_case(case_file(args.case))
    if args.ci:
        case = apply_ci(case)
    case = case_from_dict(case.data, args.set, source=case.source)   # --set wins over [ci]
    data = validate(case)                              # every input check before anything is written
    members = sweep_members(kind_spec(data["kind"]), data)
    out = _output_path(args, case)
    check_target(out, force=args.force)
    case.data.setdefault("output", {})["file"] = out   # the stored case names where it was written
    partial = out + ".partial"
    workers = args.workers                             # serial unless --workers or --scheduler
    log.info("%s: %s -> %s%s", case.kind, case.source, out,
             f" ({len(members)} sweep members)" if members else "")
    what = f"{case.kind}: sweep over {sweep_key(kind_spec(data['kind']), data)}" if members else case.kind
    on_step, bar = progress_bar(args.quiet, "member" if members else "step", desc=what)
    made = _first_missing_folder(partial)               # what a failure must not leave behind
    try:
        result = run(case, on_step=on_step, workers=workers, scheduler=args.scheduler,
                     partial=partial, resume=args.resume, discard=args.force)
        save(result, out, force=args.force)
    except KeyboardInterrupt:
        if members and os.path.isdir(partial) and os.listdir(partial):
            kept = sum(name.endswith(".h5") for name in os.listdir(partial))
            print(f"hjb: interrupted; {kept} finished sweep member(s) kept in {partial} "
                  "(continue with --resume)", file=sys.stderr)
            raise _Reported(130) from None
        _remove_made(made)
        raise
    except BaseException:
        _remove_made(made)                              # a failed run leaves no file and no folder
        raise
    finally:
        if bar is not None:
            bar.close()
    discard_partial(partial)
    if not args.quiet:
        print(f"{case.kind}: wrote {out}")
    return 0


def _first_missing_folder(path: str):
    """The outermost folder on the way to ``path`` that does not exist yet (None if all do)."""
    made, folder = None, os.path.abspath(path)
    while not os.path.exists(folder):
        made, folder = folder, os.path.dirname(folder)
    return made


def _remove_made(made) -> None:
    if made is not None and os.path.isdir(made):
        shutil.rmtree(made, ignore_errors=True)


class _Reported(Exception):
    """Leave with this exit code; the message is already on stderr."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def cmd_list(args) -> int:
    from .runner.case import load_case      # reads the TOML files only: no solver is imported
    folder = cases_folder(args.cases)
    if not os.path.isdir(folder):
        raise InputError(folder, "no such case folder")
    for path in sorted(glob.glob(os.path.join(folder, "*.toml"))):
        if args.cases:                      # a folder of one's own: its files as paths
            name = os.path.relpath(path)
            if name.startswith(".."):
                name = path
        else:                               # a shipped case: the name ``hjb run`` takes anywhere
            name = os.path.basename(path)
        try:
            case = load_case(path)
            title = case.data.get("title", "")
            print(f"{name:44s} {str(case.kind):14s} {title}")
        except InputError as exc:
            print(f"{name:44s} {'?':14s} (unreadable: {exc.message})")
    return 0


def cmd_show(args) -> int:
    from .output.hdf5 import load
    from .runner.show import check_contents, describe
    result = load(args.file)
    check_contents(result, args.file)
    print("\n".join(printable(line) for line in describe(result)))
    return 0


def cmd_plot(args) -> int:
    from .output.hdf5 import load
    from .runner.show import check_contents, save_picture
    result = load(args.file)
    check_contents(result, args.file)
    out = args.output or os.path.splitext(args.file)[0] + ".png"
    save_picture(result, out, force=args.force)
    print(f"{result.kind}: wrote {out}")
    return 0


COMMANDS = {"run": cmd_run, "list": cmd_list, "show": cmd_show, "plot": cmd_plot}


def _logging(verbose: int) -> None:
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("hjb: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False
    # Dask's own logs only at -vvv: at -vv they drown hjb's lines
    logging.getLogger("distributed").setLevel(logging.WARNING if verbose < 3 else logging.INFO)


def _terminate(signum, frame):  # SIGTERM unwinds like Ctrl-C: temporary files are removed
    raise KeyboardInterrupt


def main(argv=None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # usage errors (exit 2, one line) and --help (exit 0)
        return int(exc.code or 0)
    _logging(getattr(args, "verbose", 0))
    warnings.formatwarning = lambda msg, cat, *a, **k: f"hjb: warning: {msg}\n"
    # SIGTERM unwinds like Ctrl-C; SIGINT is honoured even when inherited as ignored
    # (a shell starts background jobs with SIGINT ignored).
    handlers = {signal.SIGTERM: _terminate, signal.SIGINT: signal.default_int_handler}
    try:
        previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    except ValueError:  # not the main thread (e.g. called from a worker thread)
        previous = None
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"hjb: {one_line(exc)}", file=sys.stderr)
        return 2
    except _Reported as exc:
        return exc.code
    except KeyboardInterrupt:
        print("hjb: interrupted; no result written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``hjb list | head -1``): not an error of ours.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        return 0
    except WriteError as exc:
        print(one_line(f"hjb: cannot write {exc.filename}: {exc.strerror}; nothing was replaced"), file=sys.stderr)
        return 1
    except MemoryError:
        print("hjb: out of memory (lower the resolution, or --max-memory-share to be refused earlier)",
              file=sys.stderr)
        return 1
    except NonFiniteError as exc:
        print(one_line(f"hjb: non-finite value: {exc}"), file=sys.stderr)
        return 1
    except Exception as exc:
        traceback.print_exc()
        print(f"hjb: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        for sig, handler in (previous or {}).items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
