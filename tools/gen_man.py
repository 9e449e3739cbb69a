#!/usr/bin/env python3
"""gen_man.py: writes eddy.1 (roff) from the binary's own help and from
configs/REFERENCE.md (itself generated from the option tables), so that the
man page cannot go stale: `make` rebuilds it whenever either changes.

usage: gen_man.py EDDY_BINARY configs/REFERENCE.md > eddy.1
"""
import re
import subprocess
import sys


def esc(s):
    """Text as roff reads it: backslashes, leading dots and quotes escaped."""
    s = s.replace("\\", "\\e").replace("-", "\\-")
    s = re.sub(r"`([^`]*)`", r"\\fB\1\\fR", s)
    return "\\&" + s if s.startswith((".", "'")) else s


def help_of(binary, *args):
    r = subprocess.run([binary, *args], capture_output=True, text=True)
    return (r.stdout or r.stderr).rstrip("\n")


def commands(binary):
    """(name, usage, summary) from `eddy --help`."""
    lines = help_of(binary, "--help").splitlines()
    out = []
    for i, line in enumerate(lines):
        m = re.match(r"^  eddy (\S+)\s+(.*)$", line)
        if m and i + 1 < len(lines):
            out.append((m.group(1), m.group(2).strip(), lines[i + 1].strip()))
    return out


def reference(path):
    """The reference's sections as roff: headings, and each table row as a
    tagged paragraph: key (type, default, range): description."""
    out = []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("# "):
            continue
        if line.startswith("## "):
            out.append(".SS " + esc(line[3:]))
        elif line.startswith("### "):
            out.append(".TP\n.B " + esc(line[4:]))
        elif line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) >= 5:
                key, typ, default, rng, desc = cells[:5]
                extra = ", ".join(x for x in (typ, "default " + default if default else "", rng) if x)
                out.append(".TP\n" + esc(key) + " (" + esc(extra) + ")\n" + esc(desc))
        elif line.startswith("|") or not line.strip():
            continue
        else:
            out.append(".PP\n" + esc(line))
    return out


def main():
    binary, ref = sys.argv[1], sys.argv[2]
    version = help_of(binary, "--version").split()[-1]
    print(f'.TH EDDY 1 "" "eddy {version}" "User Commands"')
    print(".SH NAME\neddy \\- streaming online learning on Kafka")
    print(".SH SYNOPSIS\n.B eddy\n.I COMMAND\n[\\fIARGS\\fR]")
    print(".SH DESCRIPTION")
    print("eddy consumes records from Kafka, updates incremental learners on every event, "
          "watches the stream with concept\\-drift detectors, and publishes predictions and "
          "drift alerts back to Kafka, with per\\-entity feature state and model checkpoints in Redis.")
    print(".SH COMMANDS")
    for name, usage, summary in commands(binary):
        print(f".SS eddy {esc(name)}")
        print(".nf\n" + "\n".join(esc(l) for l in help_of(binary, name, "--help").splitlines()) + "\n.fi")
        print(".PP\n" + esc(summary))
    print(".SH CONFIGURATION")
    print("\n".join(reference(ref)))
    print(".SH SEE ALSO\nThe README and docs/ of eddy's sources; \\fBeddy config \\-\\-reference\\fR.")


if __name__ == "__main__":
    main()
