#!/usr/bin/env python3
"""Writes a gatehouse seed for the benches: an owner with a write token, a gated manual model
`owner/gated` whose card has one `text` field (Company), N users (bench000001, ...), optionally
a read token for each (value hf_bench_read_<user>), and optionally a pending request by each of
the first R users. Also writes the users' tokens, one a line, to --tokens-out.

usage: gen_seed.py OUT.yaml --users N [--tokens] [--requests R] [--tokens-out FILE]
"""
import argparse

OWNER_TOKEN = "hf_bench_owner_write_token"
REPO = "owner/gated"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--users", type=int, required=True)
    p.add_argument("--tokens", action="store_true", help="a read token for every user")
    p.add_argument("--requests", type=int, default=0, help="pending requests by the first R users")
    p.add_argument("--tokens-out", help="write the users' token values here, one a line")
    a = p.parse_args()
    if a.requests > a.users:
        p.error("--requests cannot exceed --users")
    names = [f"bench{i:06d}" for i in range(1, a.users + 1)]
    w = []
    w.append("users:\n")
    w.append("  - {name: owner, fullname: Bench Owner, email: owner@example.com}\n")
    for n in names:
        w.append(f"  - {{name: {n}, fullname: User {n}, email: {n}@example.com}}\n")
    w.append("tokens:\n")
    w.append(f"  - {{user: owner, role: write, name: bench, value: {OWNER_TOKEN}}}\n")
    if a.tokens:
        for n in names:
            w.append(f"  - {{user: {n}, role: read, name: bench, value: hf_bench_read_{n}}}\n")
    w.append(
        "repos:\n"
        f"  - id: {REPO}\n"
        "    gated: manual\n"
        "    readme: |\n"
        "      ---\n"
        "      license: other\n"
        "      extra_gated_fields:\n"
        "        Company: text\n"
        "      ---\n"
        "      # A gated bench model\n"
    )
    if a.requests:
        w.append("requests:\n")
        for n in names[: a.requests]:
            w.append(
                f"  - {{repo: {REPO}, user: {n}, status: pending, fields: {{Company: ACME}}}}\n"
            )
    with open(a.out, "w") as f:
        f.writelines(w)
    if a.tokens_out:
        with open(a.tokens_out, "w") as f:
            for n in names:
                f.write(f"hf_bench_read_{n}\n")


if __name__ == "__main__":
    main()
