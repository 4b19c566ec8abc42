#!/usr/bin/env bash
# Adds every public symbol the PublicApiAnalyzers report as undeclared (RS0016) to the project's
# PublicAPI.Unshipped.txt and drops the ones reported as gone (RS0017), then rebuilds.
# Review the diff: the file is the API contract.
set -euo pipefail
proj=${1:?usage: eng/update-public-api.sh src/Project}
file="$proj/PublicAPI.Unshipped.txt"
for _ in 1 2 3; do
  out=$(dotnet build "$proj" --no-incremental 2>&1 || true)
  syms=$(grep -oP "error RS0016: Symbol '\K.*?(?=' is not part of the declared public API)" <<<"$out" | sort -u || true)
  gone=$(grep -oP "error RS0017: Symbol '\K.*?(?=' is part of the declared API)" <<<"$out" | sort -u || true)
  [ -z "$syms" ] && [ -z "$gone" ] && break
  if [ -n "$gone" ]; then
    grep -vxF -f <(printf '%s\n' "$gone") "$file" > "$file.tmp" || true
    mv "$file.tmp" "$file"
  fi
  [ -z "$syms" ] && continue
  { cat "$file"; printf '%s\n' "$syms"; } | awk 'NR==1 && /^#nullable/ {print; next} {print}' | { read -r first; echo "$first"; sort -u; } > "$file.tmp"
  mv "$file.tmp" "$file"
done
grep -E "error|warn" <<<"$out" | grep -v RS0016 | sort -u | head -40 || true
