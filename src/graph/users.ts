// Resolves organizer e-mails to Entra object ids (onlineMeetings only accepts the object id in its
// path). Needs User.Read.All (application). https://learn.microsoft.com/graph/api/user-get
import type { Client } from '@microsoft/microsoft-graph-client';
import { isGraphError } from './errors.js';
import { odataString, sendGraph, seg } from './request.js';
import type { DirectoryUser, UsersGateway } from './types.js';

interface GraphUser {
  id: string;
  displayName: string | null;
  userPrincipalName: string;
  mail: string | null;
  userType?: string | null;
  accountEnabled?: boolean | null;
}

// userType and accountEnabled are returned only when selected.
const SELECT = '$select=id,displayName,userPrincipalName,mail,userType,accountEnabled';

function toDirectoryUser(u: GraphUser): DirectoryUser {
  return {
    objectId: u.id,
    displayName: u.displayName ?? u.userPrincipalName,
    userPrincipalName: u.userPrincipalName,
    mail: u.mail ?? null,
    userType: u.userType ?? null,
    accountEnabled: typeof u.accountEnabled === 'boolean' ? u.accountEnabled : null,
  };
}

export function createUsersGateway(client: Client): UsersGateway {
  async function byUpn(upn: string): Promise<DirectoryUser | null> {
    try {
      const { body } = await sendGraph<GraphUser>(client, 'GET', `/users/${seg(upn)}?${SELECT}`);
      return body ? toDirectoryUser(body) : null;
    } catch (e) {
      if (isGraphError(e) && e.kind === 'notFound') return null;
      throw e;
    }
  }

  async function byFilter(filter: string): Promise<DirectoryUser | null> {
    const { body } = await sendGraph<{ value: GraphUser[] }>(
      client,
      'GET',
      `/users?$filter=${encodeURIComponent(filter)}&${SELECT}`,
    );
    const first = body?.value[0];
    return first ? toDirectoryUser(first) : null;
  }

  return {
    async resolveByEmail(email) {
      const address = email.trim();
      if (!address) return null;
      // A lecturer's published address is usually the UPN; when it is not (alias domains, renamed
      // accounts) it is the primary mail or one of the SMTP proxy addresses.
      return (
        (await byUpn(address)) ??
        (await byFilter(`mail eq ${odataString(address)}`)) ??
        (await byFilter(`proxyAddresses/any(p:p eq ${odataString(`smtp:${address}`)})`))
      );
    },
  };
}
