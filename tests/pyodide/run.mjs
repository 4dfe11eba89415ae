// Runs Python in Pyodide under Node.js, for tests/test_lite.py.
//
// Reads a job as JSON on stdin: {env, wheels, files, code}. Starts the
// Pyodide core from this folder's node_modules (npm ci --prefix
// tests/pyodide) with `env` as the environment, as the lite site's kernel
// settings give it; installs each wheel URL; copies each file URL to its
// path in Pyodide's file system (as the lite kernel sees the site's files
// under /drive); then runs `code` and prints, as the last line of stdout,
// the string the code's last expression gives. Everything is fetched from
// the URLs given (the test serves them on 127.0.0.1): nothing else.
import { readFileSync } from "node:fs";
import { loadPyodide } from "pyodide";

const job = JSON.parse(readFileSync(0, "utf8"));
const pyodide = await loadPyodide({ env: job.env });
for (const url of job.wheels) {
  const errors = [];
  await pyodide.loadPackage(url, {
    messageCallback: () => {},
    errorCallback: (message) => errors.push(message),
  });
  if (errors.length) {
    throw new Error(`could not install ${url}: ${errors.join("; ")}`);
  }
}
for (const [path, url] of Object.entries(job.files)) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`${url}: HTTP ${response.status}`);
  }
  pyodide.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
  pyodide.FS.writeFile(path, new Uint8Array(await response.arrayBuffer()));
}
const result = await pyodide.runPythonAsync(job.code);
process.stdout.write(`\n${result}\n`);
