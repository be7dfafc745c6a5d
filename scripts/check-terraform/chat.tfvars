# staging with the team's chat: a Slack channel (placeholder ids of the documented form). Planned by
# scripts/check-terraform.sh next to staging as it is (scripts/check-terraform/chat_plan.py).
chat_slack_team_id    = "T0000000000"
chat_slack_channel_id = "C0000000000"
