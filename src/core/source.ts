/**
 * Source text with line lookup, so any stage can turn a byte offset into FILE:LINE:COL plus the line itself.
 */
export interface Location {
  file: string
  /** 1-based */
  line: number
  /** 1-based, in characters */
  col: number
  /** The full text of the line, without its newline, for the caret display. */
  lineText: string
  /** How many characters to underline (at least 1). */
  length?: number
}

export class SourceText {
  private readonly lineStarts: number[]

  constructor(
    readonly file: string,
    readonly text: string,
  ) {
    this.lineStarts = [0]
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1)
  }

  /** Location of a character offset (clamped into the text). */
  locate(offset: number, length = 1): Location {
    const off = Math.max(0, Math.min(offset, this.text.length))
    let lo = 0
    let hi = this.lineStarts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.lineStarts[mid]! <= off) lo = mid
      else hi = mid - 1
    }
    const start = this.lineStarts[lo]!
    const end = lo + 1 < this.lineStarts.length ? this.lineStarts[lo + 1]! - 1 : this.text.length
    return {file: this.file, line: lo + 1, col: off - start + 1, lineText: this.text.slice(start, end).replace(/\r$/, ''), length}
  }

  /** Location of a 1-based line (column 1), e.g. for line-oriented formats. */
  lineAt(line: number): Location {
    const idx = Math.max(0, Math.min(line - 1, this.lineStarts.length - 1))
    return this.locate(this.lineStarts[idx]!)
  }
}
