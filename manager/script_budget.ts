/**
 * A script's jobs against a worker's default budget (`core/budget.ts`): the
 * check behind `manager/script.ts`, so a script the manager accepts never
 * has a job a default worker refuses for its size.
 *
 * @module
 */
import {
  budgetExcess,
  DEFAULT_BUDGET,
  TIMEOUT_GRACE_MS,
} from "../core/budget.ts";
import { LIMITS } from "../core/limits.ts";
import type { scriptKeys } from "./script_keys.ts";
import type { Hyperparameter } from "./script_types.ts";
import * as D from "./defaults.ts";
import type { Entry, Read } from "./yaml_read.ts";

/** Where a problem of the script is told. */
interface Problems {
  add(at: Entry, why: string, field: string): void;
}

/** The key a default that goes beyond a budget limit is named by. */
const BUDGET_KEY = {
  pps: "rate",
  dests: "hyperparameter",
  size: "size",
  durationMs: "duration",
  jobs: "lemon.limit",
} as const;

/**
 * Each kind of job the script makes a worker run, checked against a
 * worker's default budget (`core/budget.ts`): a stage's parent (rate x
 * candidates), an evaluation's root and proxies (rate x fanout), a root
 * probe's candidates (rate x sample), LEMON's all-to-all (rate x limit,
 * beside its `limit` children). Each problem names the key that sets what
 * goes beyond (the script's top when it is a default).
 */
function overBudget(
  { v, at, self }: Read<ReturnType<typeof scriptKeys>>,
  hp: Hyperparameter,
  n: number,
  fanout: number,
): { at: Entry; why: string; field: string }[] {
  const pool = Math.max(1, n - 1);
  const k = hp.kind === "count"
    ? Math.min(hp.value, pool)
    : Math.min(pool, Math.max(fanout, Math.ceil(hp.value * pool)));
  const rate = v.rate ?? D.RATE, warmup = v.warmup ?? D.WARMUP;
  const ev = v.evaluation, l = v.lemon, rp = v.root_probe?.v;
  const ms = (w: number, d: number) => Math.round((w + d) * 1000);
  const hedge = Math.max(0, ...(v.trees ?? []).map((t) => t.hedge ?? 0));
  const jobs = [
    {
      load: {
        rate,
        dests: k,
        durationMs: ms(warmup, v.duration ?? D.DURATION),
      },
      at: { dests: at.hyperparameter, pps: at.rate ?? at.hyperparameter },
      dur: at.duration ?? at.warmup,
    },
    {
      // A proxy of a hedged tree also forwards to its hedge children: on
      // average H x F of them (each node has H hedge parents among F).
      load: {
        rate: ev?.v.rate ?? rate,
        dests: fanout * (1 + hedge),
        durationMs: ms(
          ev?.v.warmup ?? warmup,
          ev?.v.duration ?? D.EVALUATION_DURATION,
        ),
      },
      at: {
        dests: hedge > 0 ? at.trees : at.fanout,
        pps: ev?.at.rate ?? at.rate ?? (hedge > 0 ? at.trees : at.fanout),
      },
      dur: ev?.at.duration ?? ev?.at.warmup ?? at.warmup,
    },
    ...(v.root === "probe"
      ? [{
        load: {
          rate,
          dests: Math.min(pool, rp?.sample ?? D.ROOT_PROBE_SAMPLE),
          durationMs: ms(warmup, v.duration ?? D.DURATION),
        },
        at: { pps: at.rate ?? v.root_probe?.at.sample ?? at.root_probe },
        dur: at.duration ?? at.warmup,
      }]
      : []),
    ...(l || v.trees?.some((t) => t.type === "LEMON")
      ? [{
        load: {
          rate: l?.v.rate ?? rate,
          dests: l?.v.limit ?? D.LEMON_LIMIT,
          durationMs: ms(
            l?.v.warmup ?? warmup,
            l?.v.duration ?? v.duration ?? D.DURATION,
          ),
        },
        children: l?.v.limit ?? D.LEMON_LIMIT,
        at: {
          dests: l?.at.limit,
          jobs: l?.at.limit,
          pps: l?.at.rate ?? at.rate ?? l?.at.limit,
        },
        dur: l?.at.duration ?? l?.at.warmup,
      }]
      : []),
  ];
  const out = [];
  for (const j of jobs) {
    const e = budgetExcess({ ...j.load, size: 0 }, DEFAULT_BUDGET, {
      pps: 0,
      jobs: "children" in j ? j.children : 0,
    });
    if (!e) continue;
    const where = e.limit === "durationMs"
      ? j.dur
      : (j.at as Partial<Record<string, Entry>>)[e.limit];
    out.push({
      at: where ?? self,
      why: `makes a job over a worker's default ${e.message}`,
      field: where?.field ?? BUDGET_KEY[e.limit],
    });
  }
  return out;
}

/** Adds a problem for each job of the script beyond a worker's default budget. */
export function checkBudget(
  top: Read<ReturnType<typeof scriptKeys>>,
  hyperparameter: Hyperparameter,
  n: number,
  problems: Problems,
): void {
  jobTimeouts(top, problems);
  const fanout = top.v.fanout ?? D.FANOUT;
  for (const b of overBudget(top, hyperparameter, n, fanout)) {
    problems.add(b.at, b.why, b.field);
  }
}

/** The longest a default worker lets a job live (`core/budget.ts`), ms. */
const JOB_LIFE_MS = Math.min(
  LIMITS.timeout[1],
  DEFAULT_BUDGET.durationMs + TIMEOUT_GRACE_MS,
);

/**
 * Every kind of job (a stage's, an evaluation's, LEMON's all-to-all) may
 * run warm-up + duration + job_grace: the COMMAND's timeout, which must fit
 * a default worker's budget.
 */
function jobTimeouts(
  { v, at, self }: Read<ReturnType<typeof scriptKeys>>,
  problems: Problems,
): void {
  const warmup = v.warmup ?? D.WARMUP;
  const ev = v.evaluation?.v ?? {}, t = v.timeouts?.v ?? {};
  const grace = t.job_grace ?? D.JOB_GRACE;
  const jobs = [
    { w: warmup, d: v.duration ?? D.DURATION, at: at.duration ?? at.warmup },
    {
      w: ev.warmup ?? warmup,
      d: ev.duration ?? D.EVALUATION_DURATION,
      at: v.evaluation?.at.duration ?? v.evaluation?.at.warmup ?? at.warmup,
    },
    ...(v.lemon || v.trees?.some((t) => t.type === "LEMON")
      ? [{
        w: v.lemon?.v.warmup ?? warmup,
        d: v.lemon?.v.duration ?? v.duration ?? D.DURATION,
        at: v.lemon?.at.duration ?? v.lemon?.at.warmup,
      }]
      : []),
  ];
  for (const j of jobs) {
    const ms = Math.round((j.w + j.d + grace) * 1000);
    // A job longer than the budget by itself is named by the budget check.
    if (ms <= JOB_LIFE_MS || (j.w + j.d) * 1000 > DEFAULT_BUDGET.durationMs) {
      continue;
    }
    const where = v.timeouts?.at.job_grace ?? j.at ?? self;
    const field = where === self ? "timeouts.job_grace" : where.field;
    problems.add(
      where,
      `makes a job's timeout (warm-up ${j.w} s + duration ${j.d} s + ` +
        `job_grace ${grace} s = ${ms / 1000} s) longer than a default ` +
        `worker allows (--max-duration ${DEFAULT_BUDGET.durationMs / 1000} s ` +
        `+ a grace of ${TIMEOUT_GRACE_MS / 1000} s)`,
      field,
    );
  }
}
