#!/usr/bin/env python3
"""csv2arff.py: a CSV with a header -> ARFF for MOA, with the attribute types
eddy is configured with.

  csv2arff.py IN.csv OUT.arff [--nominal a,b] [--target class] [--max N]
              [--numeric-target] [NAME:v1,v2,...]

The target and the --nominal columns are nominal, every other column
numeric (the target too with --numeric-target, for a regressor). Names
with spaces or quotes are quoted. A nominal attribute's values are listed in order of first
appearance in the file, which is the order in which eddy's dictionaries
number them (so class index i is the same class in both, and ties between
votes go the same way); NAME:v1,v2,... fixes that order for one column
instead (e.g. day:1,2,3,4,5,6,7 as in MOA's own elecNormNew.arff). The data
rows are copied as they are. Python's standard library only.
"""
import argparse
import csv
import sys


def arff_name(n):
    if any(c in n for c in ' \t\'"%{},'):
        return "'%s'" % n.replace('\\', '\\\\').replace("'", "\\'")
    return n


def convert(src, dst, nominal=(), target='class', fixed=None, max_rows=0, numeric_target=False):
    fixed = fixed or {}
    with open(src, newline='') as f:
        r = csv.reader(f)
        names = next(r)
        if target not in names:
            raise SystemExit('%s: no column %r' % (src, target))
        kinds = set(nominal) | set(fixed) | (set() if numeric_target else {target})
        idx = [i for i, n in enumerate(names) if n in kinds]
        seen = {i: {} for i in idx}
        rows = 0
        for row in r:
            if not row:
                continue
            for i in idx:
                seen[i].setdefault(row[i], None)
            rows += 1
            if max_rows and rows >= max_rows:
                break
    with open(dst, 'w') as out:
        out.write('@relation %s\n\n' % src.rsplit('/', 1)[-1].rsplit('.', 1)[0])
        for i, n in enumerate(names):
            if n in fixed:
                out.write('@attribute %s {%s}\n' % (arff_name(n), ','.join(fixed[n])))
            elif i in seen:
                out.write('@attribute %s {%s}\n' % (arff_name(n), ','.join(seen[i])))
            else:
                out.write('@attribute %s numeric\n' % arff_name(n))
        out.write('\n@data\n')
        # The class must be the last attribute for MOA's ArffFileStream(-1).
        if names[-1] != target:
            raise SystemExit('%s: the target %r must be the last column' % (src, target))
        with open(src, newline='') as f:
            next(f)
            n = 0
            for line in f:
                if not line.strip():
                    continue
                out.write(line if line.endswith('\n') else line + '\n')
                n += 1
                if max_rows and n >= max_rows:
                    break
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('src')
    p.add_argument('dst')
    p.add_argument('--nominal', default='')
    p.add_argument('--target', default='class')
    p.add_argument('--max', type=int, default=0)
    p.add_argument('--numeric-target', action='store_true')
    p.add_argument('fixed', nargs='*', help='NAME:v1,v2,... (fixed value order of a nominal column)')
    a = p.parse_intermixed_args()
    fixed = dict((s.split(':', 1)[0], s.split(':', 1)[1].split(',')) for s in a.fixed)
    convert(a.src, a.dst, [c for c in a.nominal.split(',') if c], a.target, fixed, a.max,
            a.numeric_target)


if __name__ == '__main__':
    sys.exit(main())
