import * as aws from "@pulumi/aws";
import { record } from "./recorder";
declare const gc: () => void;
async function main() {
  const n = Number(process.argv[2]);
  for (let k = 0; k < 1; k++) {
    const t = Date.now();
    const r = await record(async () => {
      for (let i = 0; i < n; i++) new aws.ssm.Parameter(`p${i}`, { type: "String", value: `v${i}` });
    }, { project: "p", stack: "s" });
    const dt = Date.now() - t;
    gc();
    console.log(n, r.resources.length, dt, "ms", Math.round(process.memoryUsage().heapUsed / 1e6), "MB after gc");
  }
}
main();
