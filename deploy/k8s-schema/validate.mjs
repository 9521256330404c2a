// Validates every object in the given manifest files or directories against the Kubernetes API schema of its
// apiVersion and kind. Prints one line per object; exits 1 if any object is invalid or of a kind it does not know.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

const files = process.argv.slice(2).flatMap((path) =>
  statSync(path).isDirectory()
    ? readdirSync(path).filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml").map((f) => join(path, f))
    : [path]);

let failures = 0;
for (const file of files) {
  for (const document of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (document.errors.length > 0) {
      console.log(`INVALID ${file}: ${document.errors.map((e) => e.message).join("; ")}`);
      failures++;
      continue;
    }
    const object = document.toJS();
    if (object === null) continue;
    const name = `${file}: ${object.kind}/${object.metadata?.name}`;
    // "v1" lives at kubernetes-models/v1, "apps/v1" at kubernetes-models/apps/v1, and so on.
    let model;
    try {
      model = (await import(`kubernetes-models/${object.apiVersion}/${object.kind}`))[object.kind];
    } catch {
      console.log(`UNKNOWN ${name} (${object.apiVersion})`);
      failures++;
      continue;
    }
    try {
      new model(object).validate();
      console.log(`valid ${name}`);
    } catch (error) {
      console.log(`INVALID ${name}: ${error.message}`);
      failures++;
    }
  }
}

process.exit(failures === 0 ? 0 : 1);
