// vitest setup file: runs before every test file, so this afterAll belongs to each file, shared modules or not.
import { afterAll } from "vitest";
import { removeTempDirs } from "./tempDirs";

afterAll(removeTempDirs);
