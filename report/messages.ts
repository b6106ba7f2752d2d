/**
 * The report's per-message section (issue #19): per tree kind over roots x
 * runs, the table of the per-message figures (`core/message_summary.ts`),
 * a line per pair of kinds ranked (and per kind, those it is not told apart from), and
 * three charts: the worst receiver's delay CDF of every kind, the delivery
 * window's CDF of every kind (each from the evaluations' histograms added
 * together, lost messages above every delay), and the fair share against
 * the hold. A results file without per-message figures (formats 1 and 2,
 * or a run whose leaves logged none) gets one line saying so.
 *
 * @module
 */
import type { MessageFigures } from "../core/message_figures.ts";
import {
  MESSAGE_HEAD,
  messageCells,
  type MessageSummary,
  pairLines,
  summarizeMessages,
} from "../core/message_summary.ts";
import type { Results } from "../core/results.ts";
import { kindGroups } from "../core/summary.ts";
import {
  curvesCdfSpec,
  fairHoldSpec,
  type NamedCurve,
  renderSvg,
} from "./charts.ts";
import { mergedCdfPoints } from "./data.ts";
import { esc, kindTable } from "./html.ts";

const HEAD_LABELS: Record<(typeof MESSAGE_HEAD)[number], string> = {
  kind: "tree kind",
  n: "samples",
  latency_p50_us: "worst receiver p50 µs",
  latency_p99_us: "p99 µs",
  latency_p999_us: "p99.9 µs",
  window_p99_us: "window p99 µs",
  hold99_us: "hold for 99 % fair µs",
  adaptive_fair: "adaptive fair share",
  lost_share: "lost share",
  vs_random: "p99 vs RANDOM",
  vs_worst: "p99 vs WORST",
};

/** Per kind, the CDF of one distribution over all its evaluations. */
export function kindCurves(
  results: Results,
  which: "latency" | "window",
): NamedCurve[] {
  return kindGroups(results).flatMap((g) => {
    const figs = g.members.flatMap((m) =>
      m.evaluations.flatMap((e) => e.messages ? [e.messages] : [])
    );
    const lost = figs.reduce((s, f: MessageFigures) => s + f.lost, 0);
    const points = mergedCdfPoints(figs.map((f) => f[which].histogram), lost);
    return points.length > 0 ? [{ name: g.kind, points }] : [];
  });
}

/** The per-message section of the report. */
export async function messagesSection(results: Results): Promise<string> {
  const s = summarizeMessages(results);
  const open = `<section id="messages"><h2>Per message</h2>`;
  if (s.rows.length === 0) {
    return `${open}
<p class="note">No per-message figures in this results file (format ${
      esc(results.versions.results)
    }).</p>
</section>`;
  }
  const [latency, window, fair] = await Promise.all([
    _cdf(kindCurves(results, "latency"), {
      title: "Worst receiver of each message: delay CDF per kind",
      subtitle:
        "the multicast latency; further left is better; the dotted line marks p99",
      xTitle: "worst receiver's one-way delay (µs, symlog scale)",
    }),
    _cdf(kindCurves(results, "window"), {
      title: "Delivery window of each message: CDF per kind",
      subtitle:
        "worst minus best receiver; further left is fairer; the dotted line marks p99",
      xTitle: "delivery window (µs, symlog scale)",
    }),
    renderSvg(fairHoldSpec(s.rows.map((r) => ({
      kind: r.kind,
      holds: r.holds.map((h) => ({
        holdUs: h.holdUs,
        share: h.fairShare.mean,
      })),
    })))),
  ]);
  return `${open}
<p class="note">Per tree kind, over every root and evaluation run with per-message figures: the worst receiver's one-way delay per message (the multicast latency), the delivery window (worst minus best receiver), the hold H after which every receiver had 99 % of messages, the share of messages fair under the adaptive deadline, and the share lost, each as mean ± the half width of its 95 % interval. A lost message ranks above every delay; a quantile that fell among lost messages has no figure: such samples are counted apart as "(k null)", never averaged. The p99 differences against ${
    esc(s.random ?? "RANDOM (none with figures)")
  } and ${
    esc(s.worst ?? "WORST (none with figures)")
  } are given only where the intervals tell the kinds apart.</p>
${_table(s)}
${_pairs(s)}
<div class="row"><figure class="chart msg-latency">${latency}</figure>
<figure class="chart msg-window">${window}</figure></div>
<figure class="chart msg-fair">${fair}</figure>
</section>`;
}

function _table(s: MessageSummary): string {
  return kindTable(
    "messages",
    MESSAGE_HEAD,
    HEAD_LABELS,
    s.rows.map((r) => ({ kind: r.kind, cells: messageCells(r, s) })),
  );
}

function _pairs(s: MessageSummary): string {
  if (s.pairs.length === 0) return "";
  const items = pairLines(s).map((l, i) =>
    `<li class="${s.pairs[i]!.apart ? "apart" : "overlap"}">${esc(l)}</li>`
  );
  return `<ul class="pairs">${items.join("")}</ul>`;
}

async function _cdf(
  curves: NamedCurve[],
  o: { title: string; subtitle: string; xTitle: string },
): Promise<string> {
  if (curves.length === 0) {
    return '<p class="note">No message reached every receiver.</p>';
  }
  return await renderSvg(curvesCdfSpec(curves, {
    ...o,
    legend: "kind",
    yTitle: "share of messages (CDF)",
    symlog: true,
    ruleAt: 0.99,
  }));
}
