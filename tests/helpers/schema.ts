/**
 * Validation of results files against `manager/results.schema.json`.
 *
 * @module
 */
import { Ajv } from "ajv";
import schema from "../../manager/results.schema.json" with { type: "json" };

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

/** Throws, listing every violation, unless `doc` fits the results schema. */
export function assertResultsSchema(doc: unknown): void {
  if (!validate(doc)) {
    throw new Error(
      "Results do not fit results.schema.json:\n" +
        (validate.errors ?? []).map((e) => `  ${e.instancePath} ${e.message}`)
          .join("\n"),
    );
  }
}
