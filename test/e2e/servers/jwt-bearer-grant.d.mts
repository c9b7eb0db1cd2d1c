export declare const JWT_BEARER_GRANT: "urn:ietf:params:oauth:grant-type:jwt-bearer";
export declare const ASSERTION_STATE: unique symbol;
export declare const PARAMETERS: string[];

export declare function jwtBearerGrant(options: {
  provider: unknown;
  errors: Record<string, new (...args: never[]) => Error>;
  trust: () => Array<{ issuer: string; subject?: string }>;
  resourceServerInfo: (ctx: unknown, resource: string, client?: unknown) => Promise<Record<string, unknown>>;
  defaultResource?: () => string | undefined;
}): (ctx: unknown) => Promise<void>;

export declare function customizeJwt(ctx: unknown, token: unknown, jwt: { payload: Record<string, unknown> }): Promise<void>;
