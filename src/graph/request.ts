// One way to call Graph for the gateways: the SDK request (auth, RetryHandler, telemetry) with a RAW
// response so we can see the status (createOrGet's 201 vs 200), and one error path.
import { ResponseType, type Client } from '@microsoft/microsoft-graph-client';
import { classifyGraphError, classifyHttpFailure, type GraphErrorBody } from './errors.js';

export interface GraphResponse<T> {
  status: number;
  body: T | null;
  requestId: string | null;
}

export type GraphMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** Sends one Graph request; throws a classified GraphError for any failure (after SDK retries). */
export async function sendGraph<T>(
  client: Client,
  method: GraphMethod,
  path: string,
  body?: unknown,
): Promise<GraphResponse<T>> {
  let response: Response;
  try {
    const request = client.api(path).responseType(ResponseType.RAW);
    switch (method) {
      case 'GET':
        response = (await request.get()) as Response;
        break;
      case 'POST':
        response = (await request.post(body)) as Response;
        break;
      case 'PATCH':
        response = (await request.patch(body)) as Response;
        break;
      case 'DELETE':
        response = (await request.delete()) as Response;
        break;
    }
  } catch (e) {
    throw classifyGraphError(e);
  }
  const requestId = response.headers.get('request-id');
  const text = await response.text().catch(() => '');
  let json: unknown = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  if (!response.ok) {
    const error =
      json !== null && typeof json === 'object' ? ((json as { error?: GraphErrorBody }).error ?? null) : null;
    throw classifyHttpFailure(
      response.status,
      response.headers,
      error ?? { message: `HTTP ${response.status}` },
    );
  }
  return { status: response.status, body: json as T | null, requestId };
}

/** Path segment escaping (ids and UPNs may contain `#`, `+`, `/`). */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

/** OData string literal: single quotes are doubled. https://learn.microsoft.com/graph/query-parameters#escaping-single-quotes */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
