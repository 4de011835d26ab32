// Attendance reports of an organizer's meetings (application permission OnlineMeetingArtifact.Read.All
// plus the same Teams application access policy as the meetings).
// https://learn.microsoft.com/graph/api/meetingattendancereport-list
// https://learn.microsoft.com/graph/api/attendancerecord-list
import type { Client } from '@microsoft/microsoft-graph-client';
import { GraphError } from './errors.js';
import { sendGraph, seg } from './request.js';
import type { AttendanceGateway, AttendanceRecordData, AttendanceReportSummary } from './types.js';

/** A report's records are read at most this many pages deep (a runaway nextLink loop is a Graph bug). */
const MAX_RECORD_PAGES = 1_000;

interface GraphReport {
  id: string;
  totalParticipantCount?: number | null;
  meetingStartDateTime?: string | null;
  meetingEndDateTime?: string | null;
}

interface GraphRecord {
  id?: string | null;
  emailAddress?: string | null;
  role?: string | null;
  totalAttendanceInSeconds?: number | null;
  identity?: { id?: string | null; displayName?: string | null } | null;
  attendanceIntervals?: Array<{
    joinDateTime?: string | null;
    leaveDateTime?: string | null;
    durationInSeconds?: number | null;
  }> | null;
}

interface Page<T> {
  value?: T[];
  '@odata.nextLink'?: string;
}

function toReport(r: GraphReport): AttendanceReportSummary | null {
  // A report without its meeting's times cannot be matched to a session: skipped, not guessed.
  if (!r.id || !r.meetingStartDateTime || !r.meetingEndDateTime) return null;
  return {
    id: r.id,
    meetingStartDateTime: new Date(r.meetingStartDateTime).toISOString(),
    meetingEndDateTime: new Date(r.meetingEndDateTime).toISOString(),
    totalParticipantCount: r.totalParticipantCount ?? 0,
  };
}

function toRecord(r: GraphRecord): AttendanceRecordData {
  const intervals = (r.attendanceIntervals ?? []).flatMap((i) =>
    i.joinDateTime
      ? [
          {
            join: new Date(i.joinDateTime).toISOString(),
            leave: i.leaveDateTime ? new Date(i.leaveDateTime).toISOString() : null,
            seconds: i.durationInSeconds ?? 0,
          },
        ]
      : [],
  );
  return {
    participantId: r.identity?.id || null,
    displayName: r.identity?.displayName ?? '',
    email: r.emailAddress ? r.emailAddress.trim().toLowerCase() : null,
    role: r.role ?? 'Attendee',
    totalSeconds: r.totalAttendanceInSeconds ?? intervals.reduce((sum, i) => sum + i.seconds, 0),
    intervals,
  };
}

export function createAttendanceGateway(client: Client, graphBaseUrl: string): AttendanceGateway {
  const origin = new URL(graphBaseUrl).origin;
  const reportsPath = (organizerId: string, meetingId: string) =>
    `/users/${seg(organizerId)}/onlineMeetings/${seg(meetingId)}/attendanceReports`;
  return {
    async listReports(organizerId, meetingId) {
      const { body } = await sendGraph<Page<GraphReport>>(client, 'GET', reportsPath(organizerId, meetingId));
      return (body?.value ?? []).flatMap((r) => toReport(r) ?? []);
    },

    async listRecords(organizerId, meetingId, reportId) {
      const records: AttendanceRecordData[] = [];
      let path: string | undefined =
        `${reportsPath(organizerId, meetingId)}/${seg(reportId)}/attendanceRecords`;
      for (let page = 0; path; page++) {
        if (page >= MAX_RECORD_PAGES)
          throw new GraphError({
            kind: 'invalidRequest',
            message: `attendanceRecords of report ${reportId} go on past ${MAX_RECORD_PAGES} pages`,
          });
        const response: { body: Page<GraphRecord> | null } = await sendGraph<Page<GraphRecord>>(
          client,
          'GET',
          path,
        );
        const body = response.body;
        for (const r of body?.value ?? []) records.push(toRecord(r));
        const next: string | undefined = body?.['@odata.nextLink'];
        // The next page is Graph's own link: followed only on Graph's host, so the token goes nowhere else.
        if (next && new URL(next).origin !== origin)
          throw new GraphError({
            kind: 'invalidRequest',
            message: `attendanceRecords nextLink points away from ${origin}`,
          });
        path = next;
      }
      return records;
    },
  };
}
