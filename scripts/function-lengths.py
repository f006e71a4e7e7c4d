#!/usr/bin/env python3
"""Lists C++ function definitions longer than a limit, longest first.

    scripts/function-lengths.py [--limit N] [--check] FILE...

A function's length is counted from the line of its name to its closing brace. The scanner reads
braces outside strings, characters and comments: a brace whose head (the text since the last ';',
'{' or '}') opens a namespace, class, struct, union or enum is a scope, not a function; a head
ending in ')' (after const, override, noexcept, a trailing return type or a constructor's
initializer list) is a function. With --check, exits 1 when any function is over the limit.
"""
import argparse
import re
import sys

SCOPE = re.compile(r'\b(namespace|class|struct|union|enum)\b[^()]*$|extern\s+"C"\s*$')
FUNCTION_TAIL = re.compile(r'\)\s*(const\s*)?(override\s*|final\s*|noexcept\s*(\([^)]*\))?\s*)*(->\s*[\w:<>,\s*&]+)?$')


def strip(text):
    """The text with comments, strings and character literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            i = j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
        elif c == 'R' and text.startswith('R"', i):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            end = text.find(')' + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + re.sub(r'[^\n]', ' ', text[i + 2:j]))
            i = j
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            out.append(c + ' ' * (min(j, n) - i - 1) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def function_name(head):
    head = re.sub(r'\s+', ' ', head)
    # a constructor's initializer list: the name is before the ':' that starts it
    m = re.search(r'([~\w:]+)\s*\((?:[^()]|\([^()]*\))*\)\s*(?:const\s*)?(?:noexcept\s*)?:\s*\w', head)
    if m:
        return m.group(1)
    m = re.search(r'([~\w:]+(?:operator\s*\S+)?)\s*\(', head)
    return m.group(1) if m else head.strip()[:40]


def functions(path):
    text = strip(open(path, encoding='utf-8', errors='replace').read())
    stack, head_start, results = [], 0, []
    line_of = lambda pos: text.count('\n', 0, pos) + 1
    for pos, c in enumerate(text):
        if c == '{':
            head = text[head_start:pos].strip()
            inside_function = any(kind == 'function' for kind, *_ in stack)
            if inside_function:
                stack.append(('block', pos, None))
            elif SCOPE.search(head) or not head:
                stack.append(('scope', pos, None))
            elif FUNCTION_TAIL.search(head) or re.search(r'\)\s*:\s*[\w:]+\s*[({]', head):
                name_pos = head_start + (len(text[head_start:pos]) - len(text[head_start:pos].lstrip()))
                stack.append(('function', line_of(name_pos), function_name(head)))
            else:
                stack.append(('block', pos, None))
            head_start = pos + 1
        elif c == '}':
            if stack:
                kind, start, name = stack.pop()
                if kind == 'function':
                    results.append((line_of(pos) - start + 1, path, start, name))
            head_start = pos + 1
        elif c == ';':
            head_start = pos + 1
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--limit', type=int, default=80)
    parser.add_argument('--check', action='store_true')
    parser.add_argument('--top', type=int, default=0, help='list the N longest, whatever their length')
    parser.add_argument('files', nargs='+')
    args = parser.parse_args()
    found = sorted((f for path in args.files for f in functions(path)), reverse=True)
    shown = found[:args.top] if args.top else [f for f in found if f[0] > args.limit]
    for length, path, line, name in shown:
        print(f'{length:5} {path}:{line} {name}')
    over = [f for f in found if f[0] > args.limit]
    if args.check and over:
        print(f'{len(over)} function(s) over {args.limit} lines', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
