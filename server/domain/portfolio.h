// Portfolio views over projects' states: a one-line summary of a project for "all projects
// at a glance", and how late the client is on what it owes (accord.v1.ProjectSummary and
// accord.v1.ClientResponsiveness in proto/accord/v1/projects.proto).
//
// Pure functions over a ProjectState that already went through ComputeAsOf
// (project_projection.h): overdue flags and days late of open items depend on the clock
// the caller chose there. No gRPC, no storage.
#ifndef ACCORD_SERVER_DOMAIN_PORTFOLIO_H_
#define ACCORD_SERVER_DOMAIN_PORTFOLIO_H_

#include "accord/v1/projects.pb.h"

namespace accord::domain {

// Name, client, status, health and the counts of open work: overdue client actions,
// changes not yet implemented, rejected or withdrawn, approvals without an outcome, risks
// open or occurred.
accord::v1::ProjectSummary SummarizeProject(const accord::v1::ProjectState& state);

// What the client owes and how late it is: totals over all client actions, and per month
// of the due date ("YYYY-MM", ascending) to show the trend.
accord::v1::ClientResponsiveness ComputeResponsiveness(const accord::v1::ProjectState& state);

}  // namespace accord::domain

#endif  // ACCORD_SERVER_DOMAIN_PORTFOLIO_H_
