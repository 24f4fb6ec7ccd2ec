"""The pure core: entities, workflows, commands, events, money. Standard library only."""
