/**
 * Network helpers for tests.
 *
 * @module
 */
import { RepServer } from "../../core/transport.ts";

/** A loopback control address where nothing listens: bound, then closed. */
export async function deadAddr(): Promise<string> {
  const s = await RepServer.bind("127.0.0.1:0");
  s.close();
  return s.addr;
}
