#!/usr/bin/env python3
"""Fails when async Swift code under Sources/ hands GRDB a closure that returns a `Row`.

Why: GRDB's `read`/`write` come in two overloads, an async one whose closure must return a
`Sendable` value and a synchronous one that takes anything. A closure that returns a `Row`
(not Sendable) silently selects the synchronous one, even after `try await`: it blocks a
cooperative thread until a reader connection is free. With two cooperative threads (this
machine, CI), two such waits hang the whole process; that is how the test suite deadlocked
before commit 9cc79bc. Return Sendable values instead: map the row to a tuple or a struct
inside the closure.

The rule is grep-sized, not a parser: comments and string literals are blanked, then each
`.read {`, `.write {`, `.writeWithoutTransaction {` (and GRDB's other access methods) in an
async function or after `await` is flagged when its closure declares a result type that
names `Row` (`-> Row?`, `-> [Row]`, ...), or returns a `Row.fetchOne/fetchAll/fetchSet(...)`
whose result it does not map (`.map`, `.compactMap`, ...), directly or through a local.
Synchronous functions may use the synchronous overload: they are not flagged.

    python3 scripts/lint-grdb-reads.py             # checks its own examples, then Sources/
    python3 scripts/lint-grdb-reads.py FILE...     # those files

Python standard library only. Exits 1 when something is flagged (or an example is misjudged).
"""
import os
import re
import sys

ACCESS = re.compile(
    r"\.(read|write|writeWithoutTransaction|unsafeRead|unsafeReentrantRead|unsafeReentrantWrite"
    r"|barrierWriteWithoutTransaction|writeInTransaction)\s*\{"
)
FETCH = re.compile(r"\bRow\s*\.\s*fetch(One|All|Set)\s*\(")
HEADER = re.compile(r"^\s*(?:\[[^\]]*\]\s*)?(?:\(?[\w\s,:]*\)?)\s*(?:->\s*(?P<result>[^{}]+?))?\s+in\b", re.S)
NAMES_ROW = re.compile(r"\bRow\b")
FUNC = re.compile(r"\b(?:func\s+\w+|init[?!]?)\s*(?:<[^>{]*>)?\s*\(")


def blank(source):
    """`source` with comments and string literals (interpolations too) replaced by spaces,
    newlines kept, so offsets and line numbers still match."""
    out = list(source)
    n = len(source)

    def wipe(start, end):
        for k in range(start, min(end, n)):
            if out[k] != "\n":
                out[k] = " "

    def skip_string(i):
        """Index after the string literal that starts at `i` (at its `#`s or quote)."""
        hashes = 0
        while i < n and source[i] == "#":
            hashes += 1
            i += 1
        multi = source.startswith('"""', i)
        i += 3 if multi else 1
        close = ('"""' if multi else '"') + "#" * hashes
        escape = "\\" + "#" * hashes
        while i < n:
            if source.startswith(escape + "(", i):
                i = skip_code(i + len(escape) + 1, ")")
                continue
            if source.startswith(escape, i):
                i += len(escape) + 1
                continue
            if source.startswith(close, i):
                return i + len(close)
            if not multi and source[i] == "\n":
                return i
            i += 1
        return n

    def skip_code(i, closing):
        """Index after the `closing` that ends the code starting at `i` (an interpolation)."""
        depth = 0
        while i < n:
            c = source[i]
            if c == '"' or (c == "#" and re.match(r'#+"', source[i:])):
                i = skip_string(i)
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    return i + 1
                depth -= 1
            i += 1
        return n

    i = 0
    while i < n:
        if source.startswith("//", i):
            end = source.find("\n", i)
            end = n if end < 0 else end
            wipe(i, end)
            i = end
        elif source.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if source.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif source.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            wipe(i, j)
            i = j
        elif source[i] == '"' or (source[i] == "#" and re.match(r'#+"', source[i:])):
            end = skip_string(i)
            quote = source.index('"', i)
            wipe(quote + 1, end)
            i = end
        else:
            i += 1
    return "".join(out)


def matching(text, start):
    """Index of the bracket that closes the one at `start`."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    stack = []
    for k in range(start, len(text)):
        c = text[k]
        if c in pairs:
            stack.append(pairs[c])
        elif stack and c == stack[-1]:
            stack.pop()
            if not stack:
                return k
    return len(text) - 1


def top_level(body):
    """`body` with everything inside nested brackets blanked: what the closure itself says."""
    out, depth = [], 0
    for c in body:
        if c in "([{":
            out.append(c if depth == 0 else " ")
            depth += 1
        elif c in ")]}":
            depth -= 1
            out.append(c if depth == 0 else " ")
        else:
            out.append(c if depth == 0 or c == "\n" else " ")
    return "".join(out)


def in_async_function(text, at):
    """Whether the innermost function or initializer around offset `at` is `async`."""
    best = None
    for found in FUNC.finditer(text, 0, at):
        params_end = matching(text, found.end() - 1)
        brace = text.find("{", params_end)
        if brace < 0 or brace > at:
            continue
        if matching(text, brace) > at:
            best = text[params_end:brace]
    return best is not None and re.search(r"\basync\b", best) is not None


def returned_rows(body):
    """Why the closure `body` (between its braces, header included) returns a Row, or None."""
    header = HEADER.match(body)
    if header and header.group("result") and NAMES_ROW.search(header.group("result")):
        return "its closure is declared to return " + " ".join(header.group("result").split())
    code = body[header.end():] if header else body
    level = top_level(code)
    locals_holding_rows = set()
    for fetch in FETCH.finditer(level):
        close = matching(code, fetch.end() - 1)
        after = code[close + 1:].lstrip()
        if re.match(r"[?!]?\s*\.\s*\w", after):
            continue  # mapped or read from inside the closure: what leaves is not the Row
        before = re.sub(r"\btry[?!]?\s*$", "", level[: fetch.start()].rstrip()).rstrip()
        assigned = re.search(r"\b(?:let|var)\s+(\w+)\s*(?::[^=]*)?=\s*$", before)
        if assigned:
            locals_holding_rows.add(assigned.group(1))
        elif re.search(r"\breturn$", before) or not after.strip():
            return "it returns what Row.fetch%s(…) gave, unmapped" % fetch.group(1)
    tail = [line.strip() for line in level.strip().splitlines() if line.strip()]
    last = tail[-1] if tail else ""
    for name in locals_holding_rows:
        if re.fullmatch(r"(return\s+)?" + re.escape(name), last):
            return "it returns `%s`, a Row" % name
    return None


def check(path, source):
    text = blank(source)
    problems = []
    for access in ACCESS.finditer(text):
        brace = access.end() - 1
        body = text[brace + 1: matching(text, brace)]
        line_start = text.rfind("\n", 0, access.start()) + 1
        awaited = re.search(r"\bawait\b", text[line_start: access.start()]) is not None
        if not (awaited or in_async_function(text, access.start())):
            continue
        why = returned_rows(body)
        if why:
            line = text.count("\n", 0, access.start()) + 1
            problems.append(
                "%s:%d: .%s { } in async code, and %s: that picks GRDB's synchronous overload, "
                "which blocks a cooperative thread; return Sendable values" % (path, line, access.group(1), why))
    return problems


# What the rule must flag, and what it must leave alone (the shapes Sources/ uses).
FLAGGED = [
    # The lookup that hung the tests (before commit 9cc79bc).
    """
    func expert(for token: ExpertToken) async throws -> String? {
        let row = try await database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT expert_id, secret_hash FROM expert_tokens WHERE id = ? AND revoked_at IS NULL",
                arguments: [token.id])
        }
        guard let row else { return nil }
        return row["expert_id"]
    }
    """,
    """
    func all() async throws -> [String] {
        let rows = try await database.read { db -> [Row] in
            try Row.fetchAll(db, sql: "SELECT * FROM t")
        }
        return rows.map { $0["id"] }
    }
    """,
    """
    func one() async throws {
        let found = try await writer.write { db in
            let row = try Row.fetchOne(db, sql: "SELECT 1")
            try db.execute(sql: "DELETE FROM t")
            return row
        }
    }
    """,
    """
    func pair() throws {
        Task { _ = try await database.read { db -> (Row?, Int) in (try Row.fetchOne(db, sql: "x"), 1) } }
    }
    """,
]
LEFT_ALONE = [
    """
    func expert(for token: ExpertToken) async throws -> String? {
        // Not `let row = try await database.read { db in try Row.fetchOne(db, sql: "...") }`.
        let found = try await database.read { db -> (expertID: String, hash: Data)? in
            try Row.fetchOne(
                db, sql: "SELECT expert_id, secret_hash FROM t WHERE id = ?",
                arguments: [token.id]
            ).map { ($0["expert_id"], $0["secret_hash"]) }
        }
        return found?.expertID
    }
    """,
    """
    func active() async throws -> [Record] {
        try await database.read { [table] db in
            try Row.fetchAll(db, sql: "SELECT id FROM \\(table) WHERE a = \\("b")").map { row in
                Record(id: row["id"])
            }
        }
    }
    """,
    """
    func take() async throws -> (String, Data)? {
        try await database.write { db -> (String, Data)? in
            let row = try Row.fetchOne(db, sql: "SELECT * FROM s WHERE h = ?", arguments: [h])
            try db.execute(sql: "DELETE FROM s WHERE h = ?", arguments: [h])
            return row.map { ($0["a"], $0["b"]) }
        }
    }
    """,
    # Synchronous code may use the synchronous overload.
    """
    static func mode(_ writer: any DatabaseWriter) throws -> Row? {
        try writer.writeWithoutTransaction { db in try Row.fetchOne(db, sql: "PRAGMA synchronous") }
    }
    """,
    """
    func count() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") ?? 0 }
    }
    """,
]


def self_test():
    wrong = []
    for number, example in enumerate(FLAGGED, 1):
        if not check("flagged example %d" % number, example):
            wrong.append("flagged example %d was not flagged" % number)
    for number, example in enumerate(LEFT_ALONE, 1):
        wrong += check("left-alone example %d" % number, example)
    return wrong


def main(paths):
    problems = self_test()
    if problems:
        print("lint-grdb-reads: the rule misjudges its own examples:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    if not paths:
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources")
        paths = sorted(
            os.path.join(folder, name)
            for folder, _, names in os.walk(root)
            for name in names
            if name.endswith(".swift"))
    for path in paths:
        with open(path, encoding="utf-8") as file:
            problems += check(os.path.relpath(path), file.read())
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
