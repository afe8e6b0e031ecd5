// Pulumi entry point (`pulumi preview -s homelab`). The program lives in stacks/program.ts so
// the offline plan runs the same code.
import { runProgram } from "./stacks/program";

export = runProgram();
