export * from "./archive";
export * from "./cost";
export * from "./plan";
export * from "./policies";
export * from "./prices";
export * from "./providers";
export * from "./retention";
export * from "./sync";
