// Admin API for Teams application access policies: record a grant, list organizers with their state,
// and the PowerShell (or its data, for infra/scripts/grant-access-policy.ps1) that fixes missing ones.
import { z } from 'zod';

import {
  listOrganizerPolicies,
  organizersLackingPolicy,
  policyScript,
  recordPolicyGrant,
} from '../admin/policies.js';
import { problems } from '../admin/problems.js';
import { contextSink, createEventLogger } from '../events.js';
import { readJson } from './request.js';
import { routeDefinitions, type GroupHandlers } from './routeTable.js';
import { adminRoute, jsonResponse, type HttpRouteOptions, type RouteDefinition } from './routes.js';

const grantSchema = z
  .object({
    user: z.string().min(1).max(320).optional(),
    global: z.boolean().optional(),
    grantedAt: z.string().max(40).optional(),
  })
  .strict();

/** The handlers of the policies routes, by route name (their metadata: ROUTES in routeTable.ts). */
export function createPoliciesHandlers(options: HttpRouteOptions = {}): GroupHandlers<'policies'> {
  const grant = adminRoute('policiesGrant', options, async (request, context, services) => {
    const input = await readJson(request, grantSchema);
    const result = await recordPolicyGrant(services, {
      ...(input.user !== undefined ? { user: input.user } : {}),
      ...(input.global !== undefined ? { global: input.global } : {}),
      ...(input.grantedAt !== undefined ? { grantedAt: input.grantedAt } : {}),
    });
    createEventLogger(contextSink(context)).info('policy.grant.recorded', {
      email: result.email,
      displayName: result.displayName,
      objectId: result.objectId,
      grantedAt: result.record.grantedAt,
    });
    const { etag: _etag, ...record } = result.record;
    return jsonResponse(201, { objectId: result.objectId, email: result.email, policy: record });
  });

  const list = adminRoute('policiesList', options, async (_request, _context, services) => {
    const { global, organizers } = await listOrganizerPolicies(services);
    const globalView = global ? (({ etag: _etag, ...rest }) => rest)(global) : null;
    return jsonResponse(200, {
      policyName: services.config.policy.policyName,
      global: globalView,
      organizers,
    });
  });

  const script = adminRoute('policiesScript', options, async (request, _context, services) => {
    const format = request.query.get('format') ?? 'ps1';
    const appId = services.config.graph?.clientId ?? null;
    if (format === 'json') {
      const lacking = await organizersLackingPolicy(services);
      return jsonResponse(200, {
        policyName: services.config.policy.policyName,
        appId,
        organizers: lacking.map((o) => ({
          objectId: o.objectId,
          email: o.email || null,
          blockedSessions: o.blockedSessions,
        })),
      });
    }
    if (format !== 'ps1' && format !== 'text')
      throw problems.badRequest(`format must be ps1 (default) or json (got '${format.slice(0, 40)}')`);
    return {
      status: 200,
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        'content-disposition': 'inline; filename="grant-access-policy.ps1"',
        'cache-control': 'no-store',
      },
      body: await policyScript(services, appId),
    };
  });

  return { policiesGrant: grant, policiesList: list, policiesScript: script };
}

/** The policies routes (ROUTES, group 'policies') with their handlers. */
export function createPoliciesRoutes(options: HttpRouteOptions = {}): RouteDefinition[] {
  return routeDefinitions('policies', createPoliciesHandlers(options));
}
