# nftnorm.awk - a canonical form of `nft list table` output (or of a
# veilnet-policy dry-run), for comparing the two:
#   - each member of the table (counter, set, map, chain) on one line,
#     whitespace collapsed;
#   - the elements of every set and map sorted (nft prints hash sets in
#     the kernel's order);
#   - with -v zero=1, counter values replaced by 0.
# The caller sorts the lines when the order of members does not matter
# (after incremental applies the kernel keeps creation order).

function trim(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}

# Sorts the elements inside "elements = { ... }" (no braces or quotes in them).
function sort_elements(s,    start, rest, cl, inner, n, parts, i, j, t, out) {
	start = index(s, "elements = {")
	if (!start)
		return s
	rest = substr(s, start + 12)
	cl = index(rest, "}")
	inner = substr(rest, 1, cl - 1)
	n = split(inner, parts, ",")
	for (i = 1; i <= n; i++)
		parts[i] = trim(parts[i])
	for (i = 2; i <= n; i++) {
		t = parts[i]
		for (j = i - 1; j >= 1 && parts[j] > t; j--)
			parts[j + 1] = parts[j]
		parts[j + 1] = t
	}
	out = ""
	for (i = 1; i <= n; i++)
		out = out (i > 1 ? ", " : "") parts[i]
	return substr(s, 1, start - 1) "elements = { " out " }" substr(rest, cl + 1)
}

# Brace depth change of a line, ignoring quoted text.
function delta(s,    i, c, q, d) {
	q = 0
	d = 0
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\"")
			q = !q
		else if (!q && c == "{")
			d++
		else if (!q && c == "}")
			d--
	}
	return d
}

BEGIN { depth = 0; block = "" }

{
	line = trim($0)
	gsub(/[ \t]+/, " ", line)
	if (line == "")
		next
	if (zero)
		gsub(/packets [0-9]+ bytes [0-9]+/, "packets 0 bytes 0", line)
	d = delta(line)
	if (depth == 0) {
		print line
	} else if (depth == 1 && d <= 0 && block == "") {
		print line
	} else {
		block = block (block == "" ? "" : " ") line
		if (depth + d == 1) {
			print sort_elements(block)
			block = ""
		}
	}
	depth += d
}
