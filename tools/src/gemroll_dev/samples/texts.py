"""Word banks for the generated pages and documents (plain data)."""

from __future__ import annotations

import random

FIRST_NAMES = (
    "Ana", "Ben", "Clara", "David", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kaito",
    "Lena", "Marta", "Nils", "Olga", "Pedro", "Quinn", "Rosa", "Sami", "Tomas", "Ulla", "Vera",
    "Wen", "Yusuf", "Zoe", "Maya", "Luca", "Noor", "Emil", "Aisha",
)
LAST_NAMES = (
    "Silva", "Becker", "Novak", "Okafor", "Larsen", "Moreau", "Tanaka", "Costa", "Fischer",
    "Haddad", "Kowalski", "Lindqvist", "Romero", "Schmidt", "Weber", "Yilmaz", "Ferreira",
)
STREETS = (
    "Rua Augusta", "Avenida da Liberdade", "Oranienstrasse", "Kastanienallee", "Market Street",
    "Harbor View Rd", "Calle Mayor", "Leopoldstrasse", "Rua do Ouro", "Ocean Drive",
    "Torstrasse", "Linienstrasse", "Bergmannstrasse", "Atlantic Ave", "Rua da Prata",
)
CITIES = (
    ("Lisbon", "1100-053", "Portugal"), ("Berlin", "10999", "Germany"),
    ("Munich", "80802", "Germany"), ("Cape Canaveral", "FL 32920", "USA"),
    ("Oviedo", "33003", "Spain"),
)
CHAT_LINES = (
    "Are you still up for dinner tonight?", "Running 10 minutes late, sorry!",
    "Did you see the photos from Saturday?", "Yes!! The one at the lake is amazing",
    "Can you send me the address again?", "Sure, it's the place next to the bakery",
    "What time does the train leave?", "8:42 from platform 3", "Perfect, see you there",
    "Don't forget the charger", "Haha I already packed two", "How was the hike?",
    "Long but the view at the top was worth it", "Grandma loved the cake",
    "Should I bring anything?", "Maybe some bread and cheese", "Booked the table for 4",
    "Traffic is terrible today", "Just landed", "Call me when you're free",
    "Thanks for yesterday, it was so much fun", "The tickets are in my email",
    "Can we move the meeting to Thursday?", "Works for me", "Happy birthday!!!",
    "I think I left my jacket at your place", "It's on the chair, I'll bring it tomorrow",
    "Look at this sunset", "Where did you park?", "Level 2, next to the elevator",
)
HEADLINES = (
    "City council approves new tram line to the waterfront",
    "Record crowds as the summer festival returns to the old town",
    "Local bakery wins national award for its sourdough",
    "Storm warning issued for the coast this weekend",
    "Museum reopens after two years of renovation",
    "Researchers map the hidden streams beneath the city",
    "Night trains are back: what travellers need to know",
    "The best hiking trails within an hour of the city",
)
NEWS_SENTENCES = (
    "The plan, which was presented on Tuesday, has been debated for almost a decade.",
    "Residents who attended the meeting said they welcomed the decision but wanted more detail.",
    "Officials expect the first phase to be completed before the end of next year.",
    "Critics argue that the budget does not account for rising construction costs.",
    "Local businesses along the route have already reported more visitors.",
    "A spokesperson for the transport authority said the timetable would be published soon.",
    "The project is funded in part by a regional development grant.",
    "Similar schemes in other cities have reduced car traffic by up to a fifth.",
    "Several neighbourhood associations have asked for a public consultation.",
    "Construction will take place mostly at night to limit disruption.",
    "The mayor called the vote a turning point for the city's public spaces.",
    "Tickets for the opening weekend sold out within hours.",
    "Weather forecasters expect temperatures to stay above average for the season.",
    "Volunteers have spent months preparing the exhibition.",
    "The organisers thanked the hundreds of people who helped along the way.",
)
GROCERIES = {
    "Produce": ("Bananas", "Tomatoes", "Spinach", "Avocados", "Lemons", "Red onions", "Apples",
                "Garlic", "Basil", "Carrots"),
    "Dairy": ("Milk", "Greek yogurt", "Butter", "Parmesan", "Eggs (10)", "Mozzarella"),
    "Bakery": ("Sourdough loaf", "Croissants", "Rye bread", "Bagels"),
    "Pantry": ("Olive oil", "Spaghetti", "Rice", "Coffee beans", "Oats", "Chickpeas",
               "Tomato passata", "Honey"),
    "Household": ("Dish soap", "Paper towels", "Trash bags", "Sponges"),
}
CALENDAR_EVENTS = (
    "Team stand-up", "Dentist", "Lunch with Marta", "Yoga", "Flight to Lisbon",
    "Grandma's birthday", "Project review", "Piano lesson", "Pick up parcel",
    "Dinner reservation", "Gym",
    "1:1 with manager", "Parents evening", "Car service", "Book club", "Train to Munich",
)
EMAILS = (
    ("Lisbon Hotel Alfama", "Your booking is confirmed", "Thank you for choosing us. Check-in "
     "is from 15:00 on Friday. Please find your reservation details below."),
    ("Deutsche Bahn", "Your ticket for 14 Sep", "Your journey Berlin Hbf to München Hbf. "
     "Show this ticket on your phone or print it."),
    ("GitHub", "[gemroll] Pull request merged", "Merged #42 into main. 3 files changed, "
     "120 additions and 14 deletions."),
    ("Marta Silva", "Photos from the hike", "Here are the pictures from Saturday, the one at "
     "the summit is my favourite. Can you send yours?"),
    ("City Library", "Reminder: 2 items due soon", "The following items are due on Monday. "
     "You can renew them online or at any branch."),
    ("Bank", "Your monthly statement is ready", "Your statement for the period ending "
     "31 August is now available in online banking."),
    ("Airline", "Check in now for your flight", "Online check-in is open. Choose your seat "
     "and get your boarding pass."),
    ("Landlord", "Heating maintenance on Thursday", "A technician will check the radiators "
     "between 9 and 12. Please make sure someone is at home."),
    ("Newsletter", "This week: 10 ideas for the weekend", "Markets, concerts and a new "
     "exhibition at the harbour. Plus our favourite brunch spots."),
    ("Jonas Becker", "Re: dinner on Friday", "Sounds great! I'll book the table for 8. "
     "Let me know if anyone else is coming."),
)
LETTER_SENTENCES = (
    "Thank you for your letter of last month and for the documents you enclosed.",
    "We are pleased to confirm that your application has been approved.",
    "Please find attached the contract for the period starting on the first of next month.",
    "Should you have any questions, our customer service team will be happy to help.",
    "We kindly ask you to return the signed form within fourteen days.",
    "The amount will be debited from your account on the date stated above.",
    "According to our records, the meter reading for the last period was estimated.",
    "We would like to inform you about changes to our terms and conditions.",
    "Your new card will arrive separately within the next few working days.",
    "For security reasons we never ask for your password by email or telephone.",
    "We appreciate your patience while we reviewed your request.",
    "This letter serves as confirmation of the appointment agreed by telephone.",
)
RECEIPT_ITEMS = (
    ("Espresso", 1.20), ("Pastel de nata", 1.40), ("Cappuccino", 2.80), ("Orange juice", 3.50),
    ("Grilled sardines", 14.50), ("Bacalhau", 17.90), ("House wine 0.5l", 9.00),
    ("Water 1l", 2.50), ("Salad", 7.80), ("Bread & olives", 3.20), ("Cheesecake", 5.50),
    ("Burger", 12.90), ("Fries", 4.20), ("Iced tea", 3.10), ("Pizza Margherita", 10.50),
    ("Tiramisu", 6.00), ("Beer 0.33l", 3.80), ("Soup of the day", 5.20),
)
SHOPS = (
    "Café Aurora", "Tasca do Bairro", "Harbor Grill", "Pizzeria Bella", "Bäckerei Krume",
    "Seaside Diner", "Mercado Central", "Biergarten am See",
)
COMPANIES = (
    "Northwind Energy GmbH", "Atlas Insurance AG", "Bright Pixel Studio", "Greenline Telecom",
    "Hausverwaltung Weber", "Coastal Property Services", "Lumen Legal LLP",
)
INVOICE_LINES = (
    ("Electricity, May", 84.20), ("Monthly subscription", 29.99), ("Web design", 640.00),
    ("Consulting (4 h)", 360.00), ("Heating service", 145.00), ("Mobile plan", 19.90),
    ("Roaming package", 9.90), ("Parts and materials", 72.35), ("Annual maintenance", 220.00),
    ("Late fee", 5.00), ("Photo prints (24)", 18.40), ("Delivery", 6.90),
)
SETTINGS_GROUPS = (
    (("Airplane Mode", "toggle"), ("Wi-Fi", "value"), ("Bluetooth", "On"),
     ("Mobile Data", ""), ("Personal Hotspot", "Off")),
    (("Notifications", ""), ("Sounds & Haptics", ""), ("Focus", ""), ("Screen Time", "")),
    (("General", ""), ("Control Centre", ""), ("Display & Brightness", ""),
     ("Home Screen", ""), ("Accessibility", ""), ("Wallpaper", ""), ("Battery", ""),
     ("Privacy & Security", "")),
)
PLACES = (
    "Miradouro da Graça", "Time Out Market", "Cafe Central", "Parque Eduardo VII",
    "Fisherman's Wharf", "Mirador del Cable", "Viktualienmarkt", "Kennedy Space Center",
)


AIRLINES = ("Atlantica Air", "Nordwind", "Lusa Air", "Alpina", "Coastal Air", "Meridian")


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def sentences(rng: random.Random, bank: tuple[str, ...], n: int) -> str:
    return " ".join(rng.sample(bank, min(n, len(bank))))
