// Renders a ProjectState as the readable summary `accord project show` prints.
#ifndef ACCORD_CLIENT_PROJECT_VIEW_H_
#define ACCORD_CLIENT_PROJECT_VIEW_H_

#include <string>

#include "accord/v1/projects.pb.h"

namespace accord::client {

std::string RenderProject(const accord::v1::ProjectState& state);

}  // namespace accord::client

#endif  // ACCORD_CLIENT_PROJECT_VIEW_H_
