/**
 * The LEMON all-to-all phase so far, carried by one ALLTOALL step to the
 * next: below both the step type (`step.ts`) and the step (`alltoall.ts`).
 *
 * @module
 */
import type { AllToAllResult } from "../core/results.ts";
import type { Transfer } from "./schedule.ts";

/** The phase so far: its result, its rounds and the next one to run. */
export interface AllToAllState {
  result: AllToAllResult;
  rounds: Transfer[][];
  next: number;
}
