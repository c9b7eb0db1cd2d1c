export declare const TOKEN_EXCHANGE_AUDIENCE: string;

export interface FederatedCredential {
  issuer: string;
  subject: string;
  /** Default ["api://AzureADTokenExchange"]. */
  audiences?: string[];
  name?: string;
}

export interface EntraTokenRequest {
  at: number;
  /** Names of the body parameters, sorted. */
  params: string[];
  clientId?: string;
  grantType?: string;
  scope?: string;
  /** The `resource` parameter, when one was sent (Entra v2 refuses it). */
  resource?: string;
  /** The client assertion's claims as presented (never the assertion itself). */
  assertion?: { issuer?: string; subject?: string; audience?: string | string[] };
  /** The assertion's signature and times checked with its issuer's published keys. */
  verified: boolean;
  /** Name of the federated identity credential that matched. */
  credential?: string;
  status?: number;
  error?: string;
  aadsts?: number;
}

export interface EntraId {
  origin: string;
  tenant: string;
  authorityHost: string;
  issuer: string;
  tokenEndpoint: string;
  jwksUri: string;
  metadataUrl: string;
  requests: EntraTokenRequest[];
  addApplication(options?: { clientId?: string; federatedCredentials?: FederatedCredential[] }): { clientId: string; objectId: string };
  addResource(applicationIdUri: string, options?: { audience?: string; roles?: string[] }): void;
  close(): Promise<void>;
}

export declare function start(options?: { host?: string; port?: number; tenant?: string; lifetime?: number }): Promise<EntraId>;
