/**
 * libyaml (go-yaml v2, which coreos-cloudinit used) accepted a multi-line quoted scalar whose continuation
 * lines sit at or left of its key's indentation; YAML 1.2 parsers do not (coreos-cloudinit's own test
 * config does this). Used only after a parse failed: indent those continuation lines past the key, which
 * keeps every line number and does not change the value (folding drops leading whitespace).
 */
export interface QuotedRepair {
  text: string
  /** 0-based line index of each repaired scalar's key line. */
  keyLines: number[]
}

/** Index just past the closing quote of a scalar opened at `start` (the quote itself), or -1. */
function closingQuote(text: string, start: number): number {
  const q = text[start]
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]
    if (q === '"' && c === '\\') i++
    else if (c === q) {
      if (q === "'" && text[i + 1] === "'") i++
      else return i + 1
    }
  }
  return -1
}

export function repairUnderIndentedQuotes(text: string): QuotedRepair | undefined {
  const lines = text.split('\n')
  const starts: number[] = []
  let offset = 0
  for (const l of lines) {
    starts.push(offset)
    offset += l.length + 1
  }
  const repaired = [...lines]
  const keyLines: number[] = []
  for (let n = 0; n < lines.length; n++) {
    const m = /^(\s*)(-\s+)?[^\s#'"\-][^:#]*:\s+(['"])/.exec(lines[n]!)
    if (!m) continue
    const close = closingQuote(text, starts[n]! + m[0].length - 1)
    if (close < 0) continue
    let lastLine = n
    while (lastLine + 1 < lines.length && starts[lastLine + 1]! < close) lastLine++
    const keyColumn = m[1]!.length + (m[2]?.length ?? 0)
    const under = lines.slice(n + 1, lastLine + 1).some((l) => l.trim() !== '' && l.length - l.trimStart().length <= keyColumn)
    if (under) {
      const pad = ' '.repeat(keyColumn + 2)
      for (let k = n + 1; k <= lastLine; k++) repaired[k] = pad + lines[k]!.trimStart()
      keyLines.push(n)
    }
    n = lastLine
  }
  return keyLines.length ? {text: repaired.join('\n'), keyLines} : undefined
}
