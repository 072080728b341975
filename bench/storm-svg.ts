/**
 * Small inline-SVG line charts for the storm report: linear or log axes, one path per series,
 * shaded spans (the herd), a legend. No dependencies and no external assets, so the report is
 * one file that opens anywhere. Series are tagged (data-series) so tests can find them.
 */

export interface Series {
  name: string
  color: string
  dash?: string
  points: readonly (readonly [number, number])[]
}

export interface ChartSpec {
  id: string
  title: string
  xLabel: string
  yLabel: string
  xLog?: boolean
  yLog?: boolean
  /** Fixed y range (else from the data). */
  yRange?: [number, number]
  spans?: readonly { from: number; to: number; label: string }[]
  series: readonly Series[]
  width?: number
  height?: number
}

export const esc = (s: string): string => s.replace(/[&<>"']/gu, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

function niceTicks(lo: number, hi: number, log: boolean): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return []
  if (log) {
    const out: number[] = []
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      const v = 10 ** e
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v)
    }
    return out
  }
  const span = hi - lo || 1
  const step0 = 10 ** Math.floor(Math.log10(span / 5))
  const step = [1, 2, 5, 10].map((m) => m * step0).find((s) => span / s <= 6) ?? step0 * 10
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(10)))
  return out
}

const label = (v: number): string => (Math.abs(v) >= 1e6 ? `${v / 1e6}M` : Math.abs(v) >= 1000 ? `${v / 1000}k` : Math.abs(v) < 1 && v !== 0 ? String(Number(v.toPrecision(2))) : String(Number(v.toPrecision(4))))

export function lineChart(c: ChartSpec): string {
  const W = c.width ?? 640
  const H = c.height ?? 300
  // The legend sits right of the plot area, never over the data.
  const m = { l: 64, r: c.series.length ? 170 : 16, t: 28, b: 44 }
  const pts = c.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!c.xLog || x > 0) && (!c.yLog || y > 0))
  const xs = pts.map((p) => p[0])
  const ys = pts.map((p) => p[1])
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1]
  let [y0, y1] = c.yRange ?? (ys.length ? [c.yLog ? Math.min(...ys) : 0, Math.max(...ys)] : [0, 1])
  // A log axis needs a positive range: an empty chart gets 1..10.
  if (c.xLog) [x0, x1] = x0 > 0 && x1 > 0 ? [10 ** Math.floor(Math.log10(x0)), 10 ** Math.ceil(Math.log10(x1))] : [1, 10]
  if (c.yLog) [y0, y1] = y0 > 0 && y1 > 0 ? [10 ** Math.floor(Math.log10(y0)), 10 ** Math.ceil(Math.log10(y1))] : [1, 10]
  if (x1 === x0) x1 = x0 + 1
  if (y1 === y0) y1 = y0 + 1
  const fx = (x: number): number => m.l + ((c.xLog ? Math.log10(x) - Math.log10(x0) : x - x0) / (c.xLog ? Math.log10(x1) - Math.log10(x0) : x1 - x0)) * (W - m.l - m.r)
  const fy = (y: number): number => H - m.b - ((c.yLog ? Math.log10(y) - Math.log10(y0) : y - y0) / (c.yLog ? Math.log10(y1) - Math.log10(y0) : y1 - y0)) * (H - m.t - m.b)
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="${esc(c.id)}" data-chart="${esc(c.id)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(c.title)}">`]
  parts.push(`<title>${esc(c.title)}</title><rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`)
  parts.push(`<text x="${m.l}" y="18" class="ct">${esc(c.title)}</text>`)
  for (const s of c.spans ?? []) {
    const a = Math.max(m.l, fx(Math.max(s.from, x0)))
    const b = Math.min(W - m.r, fx(Math.min(s.to, x1)))
    if (b > a) parts.push(`<rect class="span" x="${a.toFixed(1)}" y="${m.t}" width="${(b - a).toFixed(1)}" height="${H - m.t - m.b}" fill="#f3e3c3"/><text x="${(a + 3).toFixed(1)}" y="${m.t + 12}" class="sl">${esc(s.label)}</text>`)
  }
  for (const v of niceTicks(x0, x1, c.xLog === true)) {
    const X = fx(v).toFixed(1)
    parts.push(`<line x1="${X}" x2="${X}" y1="${m.t}" y2="${H - m.b}" class="grid"/><text x="${X}" y="${H - m.b + 16}" text-anchor="middle" class="tk">${label(v)}</text>`)
  }
  for (const v of niceTicks(y0, y1, c.yLog === true)) {
    const Y = fy(v).toFixed(1)
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${Y}" y2="${Y}" class="grid"/><text x="${m.l - 6}" y="${Y}" dy="4" text-anchor="end" class="tk">${label(v)}</text>`)
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#888"/>`)
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" text-anchor="middle" class="al">${esc(c.xLabel)}</text>`)
  parts.push(`<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle" class="al">${esc(c.yLabel)}</text>`)
  if (c.series.length) parts.push(`<rect x="${W - m.r + 8}" y="${m.t + 2}" width="152" height="${c.series.length * 15 + 4}" fill="#fff" fill-opacity="0.85" stroke="#ccc"/>`)
  c.series.forEach((s, i) => {
    const ok = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!c.xLog || x > 0) && (!c.yLog || y > 0))
    const d = ok.map(([x, y], k) => `${k ? 'L' : 'M'}${fx(x).toFixed(1)} ${fy(Math.min(Math.max(y, y0), y1)).toFixed(1)}`).join('')
    parts.push(`<path class="series" data-series="${esc(s.name)}" data-points="${ok.length}" d="${d || 'M0 0'}" fill="none" stroke="${s.color}" stroke-width="1.8"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`)
    // Legend, top right, one line per series.
    const ly = m.t + 10 + i * 15
    const lx = W - m.r + 14
    parts.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/><text x="${lx + 28}" y="${ly + 4}" class="lg">${esc(s.name)}</text>`)
  })
  parts.push('</svg>')
  return parts.join('')
}
