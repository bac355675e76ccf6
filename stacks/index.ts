// Entry point of `pulumi up`: Pulumi calls the exported function and exports what it returns as stack outputs.
import { main } from "./program";

export = main;
