package io.semnet.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.semnet.agent.internal.Agent;
import io.semnet.agent.internal.AgentConfig;
import io.semnet.agent.internal.ConfigValues;
import io.semnet.agent.internal.LocalControl;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar semnet-agent-VERSION-agent.jar --config node.yaml}: runs one node agent until
 * SIGTERM; {@code attach}/{@code detach}/{@code list} talk to the running agent over its local
 * control socket. Exit codes: 0 done, 1 refused or failed (the reason on stderr), 2 bad usage.
 */
@Command(name = "semnet-agent", mixinStandardHelpOptions = true, version = "semnet-agent 0.1.0",
    description = "Runs a SemNet worker node: enrols with a join token on first start (or loads its identity), "
        + "starts the node (bridge, TUN, tunnel, resolver, DNS) and serves /health until SIGTERM.",
    subcommands = {AgentMain.Attach.class, AgentMain.Detach.class, AgentMain.ListInstances.class})
public final class AgentMain implements Callable<Integer> {
  @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "node.yaml (see the README for every key and default)")
  Path config;

  public static void main(String[] args) {
    System.exit(Logging.commandLine(new AgentMain()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (config == null) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--config is required");
    }
    AgentConfig c = ConfigValues.read(config, AgentConfig.class);
    Logging.configure(c.logLevel);
    Agent agent = Agent.start(c);
    Logging.runUntilTerminated(agent);
    return 0;
  }

  static JsonNode send(Path configFile, ObjectNode request) throws Exception {
    AgentConfig c = ConfigValues.read(configFile, AgentConfig.class);
    JsonNode r = LocalControl.call(c.statePath().resolve("control.sock"), request);
    System.out.println(r.toPrettyString());
    return r;
  }

  @Command(name = "attach", mixinStandardHelpOptions = true,
      description = "Attaches an instance (a network namespace or a container's PID) to the running agent's node and places it "
          + "as SERVICE#ORDINAL through the orchestration API (needs orchestrator.keyFile in node.yaml).")
  static final class Attach implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "the agent's node.yaml")
    Path config;
    @Option(names = "--netns", paramLabel = "NAME", description = "the instance's network namespace (ip netns)")
    String netns;
    @Option(names = "--pid", paramLabel = "PID", description = "the instance's first process (a container)")
    Long pid;
    @Option(names = "--service", required = true, paramLabel = "APP.NS.SERVICE.NS", description = "the deployed service")
    String service;
    @Option(names = "--ordinal", required = true, paramLabel = "N", description = "the instance's ordinal")
    int ordinal;

    @Override
    public Integer call() throws Exception {
      if ((netns == null) == (pid == null)) {
        throw new CommandLine.ParameterException(new CommandLine(this), "give exactly one of --netns and --pid");
      }
      ObjectNode r = LocalControl.request("attach").put("service", service).put("ordinal", ordinal);
      if (netns != null) {
        r.put("netns", netns);
      } else {
        r.put("pid", pid);
      }
      return send(config, r).path("ok").asBoolean() ? 0 : 1;
    }
  }

  @Command(name = "detach", mixinStandardHelpOptions = true, description = "Detaches the instance in a network namespace.")
  static final class Detach implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "the agent's node.yaml")
    Path config;
    @Option(names = "--netns", required = true, paramLabel = "NAME", description = "the namespace the instance was attached in")
    String netns;

    @Override
    public Integer call() throws Exception {
      return send(config, LocalControl.request("detach").put("netns", netns)).path("ok").asBoolean() ? 0 : 1;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists the instances attached through this agent.")
  static final class ListInstances implements Callable<Integer> {
    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "the agent's node.yaml")
    Path config;

    @Override
    public Integer call() throws Exception {
      return send(config, LocalControl.request("list")).path("ok").asBoolean() ? 0 : 1;
    }
  }
}
