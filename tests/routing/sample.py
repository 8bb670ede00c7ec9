"""A small routing file the routing tests share: roads, waste, parks and the general fallback."""

ROUTING = """\
fallback: general
departments:
  - key: roads
    name: Roads & Transport
    desk: web
    keywords: [pothole, road, street light, bus, lorry]
    examples:
      - The tarmac by the school is cracked and crumbling
  - key: waste
    name: Waste & Recycling
    desk: web
    keywords: [bin, rubbish, recycling, council tip]
    examples:
      - The collection crew left my wheelie bin blocking the driveway
  - key: parks
    name: Parks & Trees
    desk: web
    keywords: [park, playground, tree]
    examples:
      - The swings and slide need repainting before summer
  - key: general
    name: Citizen Services
    desk: web
    keywords: [council, complaint]
"""
