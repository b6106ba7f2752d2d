/**
 * A worker's answer to a REPORT asking for a per-message part of an
 * evaluation job (`PartRequest`): a leaf job reads the part's range of its
 * message log and builds its part; a proxy or root job asks each child's
 * worker for the same part, and merges them (each child's clock offset,
 * from this job's `peers`, subtracted when the request says so). A child
 * that does not answer makes its subtree missing for that part; the part
 * still answers.
 *
 * @module
 */
import { LOG_HEADER_BYTES, readMessageLogPart } from "../core/message_log.ts";
import {
  type ChildPart,
  leafPart,
  mergeParts,
  type MessagePart,
  partFromWire,
  partToWire,
} from "../core/message_parts.ts";
import {
  emptyJob,
  type Job,
  type PartRequest,
  type Report,
} from "../proto/codec.ts";
import type { JobRecord } from "./jobs.ts";
import type { AskReport } from "./report.ts";

/** Asks the worker owning `dep` for part `req` of it; rejects when it cannot. */
export type AskPart = (dep: Job, req: PartRequest) => Promise<MessagePart>;

/**
 * The reply to a REPORT asking `req` of `rec`: the part, its job only
 * naming the job (`owner`: this worker). Children are asked through `ask`.
 */
export async function partReport(
  rec: JobRecord,
  req: PartRequest,
  ask: AskReport,
  owner: string,
): Promise<Report> {
  const part = await jobPart(rec, req, async (dep, r) => {
    const got = await ask(dep, { partRequest: r });
    if (!got.part) throw new Error("answered without a part");
    return partFromWire(got.part);
  });
  return {
    job: emptyJob({ id: rec.job.id, owner }),
    complete: true,
    part: partToWire(part),
  };
}

/** The part `req` of the job `rec`: its leaf log's, or its children's merged. */
export async function jobPart(
  rec: JobRecord,
  req: PartRequest,
  ask: AskPart,
): Promise<MessagePart> {
  const job = rec.job;
  if (!job.end) {
    throw new Error(
      `Job "${job.id}" is still running: no per-message part yet`,
    );
  }
  const from = req.index * req.size;
  if (job.flag === "CHILD") {
    if (!rec.messagesPath) {
      throw new Error(`Job "${job.id}" keeps no per-message log`);
    }
    return await _leaf(rec.messagesPath, from, req);
  }
  if (job.flag !== "PROXY" && job.flag !== "MCAST") {
    throw new Error(`Job "${job.id}" is not part of an evaluation`);
  }
  const peers = new Map(job.peers.map((p) => [p.addr, p]));
  // The final report knows the subtree of a dep that is gone now.
  const known = new Map((rec.finalReport?.deps ?? []).map((d) => [d.id, d]));
  const children = await Promise.all(
    job.deps.map(async (dep): Promise<ChildPart> => {
      const lost = {
        addr: dep.owner,
        lostLeaves: leavesOf(known.get(dep.id) ?? dep),
      };
      if (dep.id === "") return lost;
      try {
        const part = await ask(dep, req);
        const end = part.firstSeq + part.worstNs.length;
        if (
          part.window !== req.window ||
          (end > part.firstSeq &&
            (part.firstSeq < from || end > from + req.size))
        ) {
          throw new Error(`Worker "${dep.owner}" answered another part`);
        }
        const peer = peers.get(dep.addr);
        return {
          addr: dep.owner,
          part,
          ...(peer
            ? { offsetNs: peer.offsetUs * 1000, boundNs: peer.boundUs * 1000 }
            : {}),
        };
      } catch {
        return lost;
      }
    }),
  );
  return mergeParts(children, {
    correct: req.correct,
    window: req.window,
    firstSeq: from,
  });
}

/** Receivers below a job as far as its report knows (1 when it knows none). */
export function leavesOf(job: Job): number {
  if (job.deps.length === 0) return 1;
  return job.deps.reduce((n, d) => n + leavesOf(d), 0);
}

async function _leaf(
  path: string,
  from: number,
  req: PartRequest,
): Promise<MessagePart> {
  // The log's extent: its first seq (header), its entries (file size).
  const h = {
    firstSeq: (await readMessageLogPart(path, 0, 0)).firstSeq,
    count: ((await Deno.stat(path)).size - LOG_HEADER_BYTES) / 4,
  };
  const lo = Math.max(from, h.firstSeq);
  const hi = Math.min(from + req.size, h.firstSeq + h.count);
  const log = await readMessageLogPart(
    path,
    lo - h.firstSeq,
    Math.max(0, hi - lo),
  );
  return leafPart(log, req.window, req.percentile, {
    startSeq: h.firstSeq,
    endSeq: h.firstSeq + h.count,
  });
}
