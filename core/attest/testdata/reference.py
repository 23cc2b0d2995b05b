"""How the golden values in attest_test.go were computed: the reference
algorithm (pyhall attestation, wcp-reference.md section 4) run over the same
files as goldenPackage(). Usage: python3 reference.py <dir with the files>"""
import hashlib, hmac, json, sys
from pathlib import Path

EXCL = {".git", "__pycache__", ".DS_Store", "manifest.json", "manifest.sig", "manifest.tmp"}

def canonical_package_hash(root):
    root = Path(root)
    records = []
    for p in sorted(root.rglob("*")):  # sorted as Path objects: component-wise
        if p.is_dir() or any(part in EXCL for part in p.parts):
            continue
        rel = p.relative_to(root).as_posix()
        if rel.endswith(".pyc"):
            continue
        b = p.read_bytes()
        records.append(f"{rel}\n{len(b)}\n{hashlib.sha256(b).hexdigest()}\n")
    return hashlib.sha256("".join(records).encode()).hexdigest()

def signing_payload(m):
    keys = ["schema_version", "worker_id", "worker_species_id", "worker_version", "package_hash", "built_at_utc", "build_source"]
    return json.dumps({k: m.get(k) for k in keys}, sort_keys=True, separators=(",", ":"))

if __name__ == "__main__":
    h = canonical_package_hash(sys.argv[1])
    print(h)
    m = {"schema_version": "awp.v1", "worker_id": "x.alice.summarizer", "worker_species_id": "wrk.doc.summarizer",
         "worker_version": "1.0.0-\u00e9\U0001F600\"\\/\x7f\n", "package_hash": h,
         "built_at_utc": "2026-11-25T07:00:00Z", "build_source": "local"}
    m["attested_at_utc"] = m["built_at_utc"]
    m["trust_statement"] = f"Package attested by namespace x.alice at {m['attested_at_utc']}; package hash sha256:{h}."
    m["signature_hmac_sha256"] = hmac.new(b"s3cret", signing_payload(m).encode(), hashlib.sha256).hexdigest()
    sys.stdout.write(json.dumps(m, indent=2, sort_keys=True) + "\n")  # = reference_manifest.json
