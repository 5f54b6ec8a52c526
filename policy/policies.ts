/**
 * Every policy of the pack, in the order `pulumi preview` lists them. Names are stable: stacks
 * refer to them in the pack's config (policy/README.md). index.ts serves this list; tests import
 * it without starting the analyzer.
 */
import type { Policies } from "@pulumi/policy";
import { caValidity } from "./ca-policy";
import {
  agentInternalNetworkOnly, dropAllCapabilities, imagesPinned, noHostMounts, noHostNamespaces, noNewPrivileges, noPublishedPorts,
  nonRootUser, notPrivileged,
} from "./container-policies";
import { noOutsideDns } from "./dns-policy";
import { kubernetesIsolation, kubernetesPodHardening } from "./kubernetes-policies";
import { pipelockNotBypassed } from "./pipelock-policy";
import { requestInspectionBlocks, routeAuthExactHost, routeAuthScoped, routeAuthTlsOnly } from "./route-policies";
import { isolationTopology } from "./topology-policy";
import { workspaceHostPath, workspaceInitConfined } from "./workspace-policies";

export const PACK_NAME = "bot-bottle";

export const policies: Policies = [
  notPrivileged,
  nonRootUser,
  noPublishedPorts,
  noHostNamespaces,
  noHostMounts,
  agentInternalNetworkOnly,
  noOutsideDns,
  dropAllCapabilities,
  noNewPrivileges,
  imagesPinned,
  pipelockNotBypassed,
  routeAuthScoped,
  routeAuthExactHost,
  routeAuthTlsOnly,
  requestInspectionBlocks,
  caValidity,
  isolationTopology,
  kubernetesPodHardening,
  kubernetesIsolation,
  workspaceHostPath,
  workspaceInitConfined,
];
