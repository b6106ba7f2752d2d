/**
 * Validation of results files against the results schema
 * (`core/results.schema.json`), for tests.
 *
 * @module
 */
import { resultsSchemaErrors } from "../../core/results_schema.ts";

/** Throws, listing every violation, unless `doc` fits the results schema. */
export function assertResultsSchema(doc: unknown): void {
  const errors = resultsSchemaErrors(doc);
  if (errors.length > 0) {
    throw new Error(
      "Results do not fit results.schema.json:\n" +
        errors.map((e) => `  ${e}`).join("\n"),
    );
  }
}
