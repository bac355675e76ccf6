import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
async function main() {
  const n = Number(process.argv[2]);
  Error.stackTraceLimit = Number(process.argv[3] ?? 10);
  await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs }, "p", "s", false);
  if (process.argv[4]) (pulumi.Resource as any).callsites = () => [];
  const t = Date.now();
  await pulumi.runtime.runInPulumiStack(async () => {
    for (let i = 0; i < n; i++) new aws.ssm.Parameter(`p${i}`, { type: "String", value: `v${i}` });
  });
  await (pulumi.runtime as any).waitForRPCs();
  console.log("baseline", n, Date.now() - t, "ms");
}
main();
