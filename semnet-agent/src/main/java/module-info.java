/**
 * The two runnable SemNet processes: the node agent ({@code io.semnet.agent.AgentMain}, one per
 * machine) and the controller ({@code io.semnet.agent.ControllerMain}: the root and cluster
 * managers with the durable store, enrolment and the orchestration API over MQTT). An application,
 * not a library: nothing is exported; {@code io.semnet.agent} holds the command-line entry points
 * (opened to picocli) and {@code io.semnet.agent.internal} the configuration (opened to Jackson) and
 * the process assembly.
 */
module io.semnet.agent {
  requires io.semnet.node;
  requires io.semnet.metrics;
  requires io.semnet.mqtt;
  requires io.semnet.control;
  requires com.fasterxml.jackson.databind;
  requires com.fasterxml.jackson.dataformat.yaml;
  requires info.picocli;
  requires org.slf4j;

  opens io.semnet.agent to info.picocli;
  opens io.semnet.agent.internal to com.fasterxml.jackson.databind;
}
