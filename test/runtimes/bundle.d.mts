export declare const ROOT: string;
export declare const OUT_DIR: string;
export interface BundleOptions {
  outfile?: string;
  format: "esm" | "iife";
  conditions?: string[];
  globalName?: string;
  platform?: "browser" | "neutral";
}
/** The output's path, or without `outfile` the bundled code itself. */
export declare function bundle(entry: string, options: BundleOptions): Promise<string>;
