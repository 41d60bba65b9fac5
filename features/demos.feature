Feature: Every forum case runs as a demo and ends in the outcome its feature asserts
  The cases of FAILURE-CASES.md are defined once, as data, in the scenarios
  package; `modemsim demo <case>` replays them. Each one here runs through
  that package with real boards on their ptys and an in-process hub, and must
  end in the lines, hub reasons and DPS reasons its own feature asserts.

  Scenario Outline: demo <case>
    When the demo of case "<case>" runs
    Then every step of the demo ended in its outcome
    And the demo recorded the transcript, the hub's reasons it expects and the certificate chains

    Examples:
      | case      |
      | H1        |
      | H2        |
      | H3        |
      | M1        |
      | M2        |
      | M3        |
      | M4        |
      | D1        |
      | D1-cn     |
      | D1-group  |
      | D1-sectag |
      | D2        |
      | D3        |
      | D4        |
      | D5        |
      | S1        |
      | S2        |
      | S2-x509   |
      | S3        |
      | S4        |
      | W1        |
      | W2        |
      | W3        |
      | W4        |
      | WS1       |
      | WS2       |
      | WS3       |
      | WS4       |
