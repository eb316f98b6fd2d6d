/**
 * A plain-text table: columns padded to their widest cell, the last column cut with `…`
 * so a line fits `width` (a terminal's columns). No colours, so it reads the same in a
 * pipe, a log file or cron mail.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], options: { indent?: string; width?: number; right?: readonly number[] } = {}): string[] {
  const indent = options.indent ?? '  ';
  const right = new Set(options.right ?? []);
  const oneLine = (s: string): string => s.replace(/[\r\n\t]+/g, ' ');
  const all = [headers, ...rows].map((r) => r.map(oneLine));
  const widths = headers.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)));
  const lines = all.map((r) =>
    indent +
    r
      .map((cell, i) => {
        if (i === r.length - 1 && !right.has(i)) return cell;
        const pad = ' '.repeat(Math.max(0, widths[i]! - [...cell].length));
        return right.has(i) ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd(),
  );
  const width = options.width;
  if (width === undefined || width < 20) return lines;
  return lines.map((l) => {
    const chars = [...l];
    return chars.length > width ? chars.slice(0, width - 1).join('') + '…' : l;
  });
}
